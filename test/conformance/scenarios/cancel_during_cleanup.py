import asyncio

async def main(trace):
    async def work():
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            trace("first cancel, cleaning up")
            try:
                await asyncio.sleep(0.05)
                trace("cleanup finished")
            except asyncio.CancelledError:
                trace("cleanup interrupted", asyncio.current_task().cancelling())
                raise
            raise

    t = asyncio.create_task(work())
    await asyncio.sleep(0.01)
    t.cancel()
    await asyncio.sleep(0.01)
    trace("second cancel", t.cancel(), t.cancelling())
    try:
        await t
    except asyncio.CancelledError:
        trace("task cancelled", t.cancelled())

    t2 = asyncio.create_task(work())
    await asyncio.sleep(0.01)
    t2.cancel()
    await asyncio.sleep(0)
    trace("t2 in cleanup", t2.cancelling())
    try:
        await t2
    except asyncio.CancelledError:
        trace("t2 cancelled after cleanup", t2.cancelled())
