import asyncio

async def main(trace):
    async def fail():
        await asyncio.sleep(0.01)
        raise ValueError("v")

    async def sleeper(name):
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            trace(name, "cancelled")
            raise

    async def inner_group():
        async with asyncio.TaskGroup() as inner:
            inner.create_task(fail())
            inner.create_task(sleeper("inner sibling"))

    try:
        async with asyncio.TaskGroup() as outer:
            outer.create_task(sleeper("outer sibling"))
            outer.create_task(inner_group())
    except ExceptionGroup as eg:
        trace("outer", type(eg).__name__, ",".join(type(x).__name__ for x in eg.exceptions))
        trace("nested", ",".join(type(x).__name__ for x in eg.exceptions[0].exceptions))

    try:
        async with asyncio.TaskGroup() as outer:
            outer.create_task(sleeper("outer child"))
            async with asyncio.TaskGroup() as inner:
                inner.create_task(fail())
            trace("not reached")
    except ExceptionGroup as eg:
        trace("outer2", ",".join(type(x).__name__ for x in eg.exceptions))
        trace("nested2", ",".join(type(x).__name__ for x in eg.exceptions[0].exceptions), asyncio.current_task().cancelling())

    async with asyncio.TaskGroup() as outer:
        t1 = outer.create_task(asyncio.sleep(0.01, "a"))
        async with asyncio.TaskGroup() as inner:
            t2 = inner.create_task(asyncio.sleep(0.02, "b"))
        trace("inner exited", t1.done(), t2.result())
    trace("ok", t1.result(), t2.result())
