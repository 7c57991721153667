import asyncio

async def main(trace):
    loop = asyncio.get_running_loop()
    for i in range(5):
        loop.call_soon(trace, "cb", i)
    trace("scheduled")
    await asyncio.sleep(0)
    trace("main resumed")
