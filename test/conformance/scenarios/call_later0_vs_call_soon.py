import asyncio

async def main(trace):
    loop = asyncio.get_running_loop()
    loop.call_later(0, trace, "later0")
    loop.call_soon(trace, "soon")
    await asyncio.sleep(0)
    trace("main after sleep0")
    loop.call_later(0.005, trace, "later5")
    loop.call_later(0.002, trace, "later2")
    loop.call_soon(trace, "soon2")
    await asyncio.sleep(0.01)
    trace("main after sleep10")
