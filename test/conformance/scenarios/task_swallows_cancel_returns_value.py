import asyncio

async def main(trace):
    async def child():
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            trace("child swallowed", asyncio.current_task().cancelling())
        await asyncio.sleep(0.01)
        trace("child slept again")
        return "ignored"

    t = asyncio.create_task(child())
    await asyncio.sleep(0.01)
    trace("cancel", t.cancel())
    r = await t
    trace("result", r, "cancelled", t.cancelled(), "cancelling", t.cancelling())
