import asyncio

async def main(trace):
    async def bad():
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            trace("cleanup fails")
            raise KeyError("cleanup")

    try:
        await asyncio.wait_for(bad(), 0.01)
    except KeyError:
        trace("KeyError propagates", asyncio.current_task().cancelling())
    except TimeoutError:
        trace("TimeoutError")
    try:
        async with asyncio.timeout(0.01) as cm:
            await bad()
    except KeyError:
        trace("timeout block: KeyError", cm.expired(), asyncio.current_task().cancelling())
    t = asyncio.create_task(bad())
    try:
        await asyncio.wait_for(t, 0.01)
    except KeyError:
        trace("task form: KeyError", t.cancelled())
