import asyncio

async def main(trace):
    me = asyncio.current_task()
    try:
        async with asyncio.timeout(0) as cm:
            me.cancel()
            await asyncio.sleep(1)
    except asyncio.CancelledError:
        trace("CancelledError", "expired", cm.expired(), "cancelling", me.cancelling())
    except TimeoutError:
        trace("TimeoutError")
    trace("uncancel", me.uncancel())

    async def victim():
        try:
            async with asyncio.timeout(1):
                await asyncio.sleep(0.5)
        except TimeoutError:
            trace("victim TimeoutError")
        except asyncio.CancelledError:
            trace("victim CancelledError", asyncio.current_task().cancelling())
            raise

    v = asyncio.create_task(victim())
    await asyncio.sleep(0.01)
    v.cancel()
    try:
        await v
    except asyncio.CancelledError:
        trace("victim task cancelled", v.cancelled())
