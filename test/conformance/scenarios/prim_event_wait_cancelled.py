import asyncio

async def main(trace):
    ev = asyncio.Event()

    async def waiter(name):
        try:
            await ev.wait()
            trace(name, "woke")
        except asyncio.CancelledError:
            trace(name, "cancelled")
            raise

    a = asyncio.create_task(waiter("a"))
    b = asyncio.create_task(waiter("b"))
    await asyncio.sleep(0.01)
    a.cancel()
    await asyncio.sleep(0.01)
    ev.set()
    await asyncio.gather(a, b, return_exceptions=True)
    trace("a cancelled", a.cancelled(), "b cancelled", b.cancelled())
