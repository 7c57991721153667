import asyncio

async def main(trace):
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(0.01) as cm:
        cm.reschedule(loop.time() + 0.05)
        await asyncio.sleep(0.03)
        trace("survived past original deadline", cm.expired(), round(cm.when() * 1000))
    async with asyncio.timeout(0.01) as cm:
        cm.reschedule(None)
        trace("when is None", cm.when() is None)
        await asyncio.sleep(0.03)
        trace("no deadline", cm.expired())
    try:
        async with asyncio.timeout(1) as cm:
            cm.reschedule(loop.time() - 1)
            trace("rescheduled to past")
            await asyncio.sleep(0)
            trace("not reached")
    except TimeoutError:
        trace("TimeoutError after past reschedule", cm.expired())
    try:
        async with asyncio.timeout(0.01) as cm:
            await asyncio.sleep(0.005)
            cm.reschedule(loop.time() + 0.02)
            await asyncio.sleep(1)
    except TimeoutError:
        trace("TimeoutError at moved deadline")
    try:
        cm.reschedule(loop.time() + 1)
        trace("not refused")
    except RuntimeError:
        trace("refused after exit")
