import asyncio

async def main(trace):
    loop = asyncio.get_running_loop()

    async def ok():
        await asyncio.sleep(0.01)
        return 1

    async def fail():
        await asyncio.sleep(0.02)
        raise KeyError("k")

    tc = asyncio.create_task(asyncio.sleep(1))
    loop.call_later(0.005, tc.cancel)
    r = await asyncio.gather(ok(), fail(), tc, return_exceptions=True)
    trace("results", ",".join(type(x).__name__ if isinstance(x, BaseException) else str(x) for x in r))
