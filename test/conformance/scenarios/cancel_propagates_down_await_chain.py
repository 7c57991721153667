import asyncio

async def main(trace):
    async def leaf():
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            trace("leaf cancelled")
            raise

    async def middle():
        try:
            await leaf()
        finally:
            trace("middle finally")

    holder = {}

    async def outer():
        inner = asyncio.create_task(middle())
        holder["inner"] = inner
        try:
            await inner
        except asyncio.CancelledError:
            trace("outer cancelled", "inner.cancelled", inner.cancelled())
            raise

    t = asyncio.create_task(outer())
    await asyncio.sleep(0.01)
    trace("cancel outer", t.cancel())
    try:
        await t
    except asyncio.CancelledError:
        trace("main saw outer cancelled")
    inner = holder["inner"]
    trace("outer", t.cancelled(), t.cancelling(), "inner", inner.cancelled(), inner.cancelling())
