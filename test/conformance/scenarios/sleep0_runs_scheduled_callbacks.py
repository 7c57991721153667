import asyncio

async def main(trace):
    loop = asyncio.get_running_loop()
    loop.call_soon(trace, "cb1")
    loop.call_soon(trace, "cb2")
    r = await asyncio.sleep(0, "R")
    trace("sleep returned", r)
    r2 = await asyncio.sleep(0.01, 7)
    trace("sleep10 returned", r2)
