import asyncio

async def main(trace):
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(0.01) as cm:
            await asyncio.sleep(10)
            trace("not reached")
    except TimeoutError as e:
        trace("TimeoutError", type(e.__cause__).__name__, "expired", cm.expired(), "cancelling", asyncio.current_task().cancelling())
    async with asyncio.timeout(0.05) as cm2:
        r = await asyncio.sleep(0.01, "in time")
    trace(r, "expired", cm2.expired(), "when", round(cm2.when() * 1000))
    async with asyncio.timeout(None) as cm3:
        await asyncio.sleep(0.1)
    trace("no deadline", cm3.when() is None, cm3.expired())
    try:
        async with asyncio.timeout_at(loop.time() + 0.02) as cm4:
            await asyncio.sleep(1)
    except TimeoutError:
        trace("timeout_at fired", cm4.expired())
