import asyncio

async def main(trace):
    async def sleeper():
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError as e:
            trace("child caught", "msg=" + str(e), asyncio.current_task().cancelling())
            raise

    t = asyncio.create_task(sleeper())
    await asyncio.sleep(0.01)
    trace("cancel1", t.cancel("m1"))
    trace("cancel2", t.cancel("m2"))
    trace("cancelling", t.cancelling(), "cancelled", t.cancelled(), "done", t.done())
    try:
        await t
    except asyncio.CancelledError as e:
        trace("awaited", "msg=" + str(e))
    trace("after", t.cancelled(), t.cancelling(), t.cancel("m3"))
