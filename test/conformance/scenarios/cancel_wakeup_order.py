import asyncio

async def main(trace):
    loop = asyncio.get_running_loop()

    async def sleeper(name):
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            trace(name, "woke cancelled")
            raise

    t1 = asyncio.create_task(sleeper("t1"))
    t2 = asyncio.create_task(sleeper("t2"))
    await asyncio.sleep(0.01)
    loop.call_soon(trace, "callback before")
    t2.cancel()
    loop.call_soon(trace, "callback between")
    t1.cancel()
    loop.call_soon(trace, "callback after")
    await asyncio.sleep(0)
    trace("main after sleep0")
    await asyncio.gather(t1, t2, return_exceptions=True)
    trace("end")
