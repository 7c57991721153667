import asyncio

async def main(trace):
    async def stubborn():
        try:
            await asyncio.sleep(1)
            return 1
        except asyncio.CancelledError:
            trace("swallowed")
            await asyncio.sleep(0.01)
            return 42

    r = await asyncio.wait_for(stubborn(), 0.01)
    trace("coroutine result", r, asyncio.current_task().cancelling())
    t = asyncio.create_task(stubborn())
    r = await asyncio.wait_for(t, 0.01)
    trace("task result", r, t.cancelled(), asyncio.current_task().cancelling())
