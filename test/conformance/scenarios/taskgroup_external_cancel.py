import asyncio

async def main(trace):
    # CPython keeps a TaskGroup's children in a set: the order they are cancelled in is unspecified,
    # so the children only record their cancellation and it is traced sorted afterwards.
    events = []
    async def child(n):
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            events.append("child cancelled %d" % n)
            raise

    async def runner():
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(child(1))
                tg.create_task(child(2))
                await asyncio.sleep(1)
        except asyncio.CancelledError:
            trace("runner got CancelledError", asyncio.current_task().cancelling())
            raise
        except ExceptionGroup:
            trace("runner got ExceptionGroup")

    r = asyncio.create_task(runner())
    await asyncio.sleep(0.01)
    trace("cancel runner", r.cancel())
    try:
        await r
    except asyncio.CancelledError:
        trace("runner cancelled", r.cancelled())
    trace("children:", ";".join(sorted(events)))

    async def bad_cleanup():
        try:
            await asyncio.sleep(1)
        finally:
            await asyncio.sleep(0.01)
            trace("cleanup raising ValueError")
            raise ValueError("v")

    async def runner2():
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(bad_cleanup())
                tg.create_task(child(3))
                await asyncio.sleep(1)
        except asyncio.CancelledError:
            trace("runner2 got CancelledError")
            raise
        except ExceptionGroup as eg:
            trace("runner2 got", type(eg).__name__, ",".join(type(x).__name__ for x in eg.exceptions), asyncio.current_task().cancelling())
            return "eg"

    r2 = asyncio.create_task(runner2())
    await asyncio.sleep(0.01)
    r2.cancel()
    try:
        res = await r2
        trace("runner2 returned", res)
    except asyncio.CancelledError:
        trace("runner2 cancelled", r2.cancelled())
    trace("children:", ";".join(sorted(events)))
