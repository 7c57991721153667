import asyncio

async def main(trace):
    me = asyncio.current_task()
    async with asyncio.timeout(0.01) as cm:
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            trace("body swallowed", me.cancelling())
        await asyncio.sleep(0.01)
        trace("body continues")
    trace("no TimeoutError", "expired", cm.expired(), "cancelling", me.cancelling())
