import asyncio

async def main(trace):
    async def inner():
        await asyncio.sleep(1)

    holder = {}

    async def outer():
        it = asyncio.create_task(inner())
        holder["inner"] = it
        try:
            await it
        except asyncio.CancelledError:
            trace("outer got CancelledError", "cancelling", asyncio.current_task().cancelling())
            raise

    t = asyncio.create_task(outer())
    await asyncio.sleep(0.01)
    trace("cancel inner", holder["inner"].cancel())
    try:
        await t
    except asyncio.CancelledError:
        trace("main saw outer cancelled")
    trace("outer", t.cancelled(), t.cancelling(), "inner", holder["inner"].cancelled(), holder["inner"].cancelling())
