import asyncio

async def main(trace):
    inner = asyncio.create_task(asyncio.sleep(1))
    outer = asyncio.shield(inner)
    await asyncio.sleep(0.01)
    trace("cancel inner", inner.cancel())
    try:
        await outer
        trace("not reached")
    except asyncio.CancelledError:
        trace("outer raised CancelledError", "outer.cancelled", outer.cancelled(), asyncio.current_task().cancelling())
    trace("main continues")
