import asyncio

async def main(trace):
    me = asyncio.current_task()
    # CPython keeps a TaskGroup's children in a set: the order they are cancelled in is unspecified,
    # so the children only record what happened and it is traced sorted afterwards.
    events = []

    async def stubborn():
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            events.append("child raising KeyError on cancel")
            raise KeyError("k")

    async def quiet():
        try:
            await asyncio.sleep(1)
        finally:
            events.append("quiet child cleanup")

    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(stubborn())
            tg.create_task(quiet())
            await asyncio.sleep(0.01)
            trace("body raising")
            raise ZeroDivisionError("z")
    except ExceptionGroup as eg:
        trace(type(eg).__name__, ",".join(type(x).__name__ for x in eg.exceptions), "cancelling", me.cancelling())
    trace("children:", ";".join(sorted(events)))
