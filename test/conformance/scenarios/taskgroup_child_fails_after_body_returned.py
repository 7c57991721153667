import asyncio

async def main(trace):
    me = asyncio.current_task()

    async def fail():
        await asyncio.sleep(0.02)
        trace("child raising")
        raise ValueError("v")

    async def sibling():
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            trace("sibling cancelled")
            raise

    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(fail())
            tg.create_task(sibling())
            await asyncio.sleep(0.01)
            trace("body returns")
    except ExceptionGroup as eg:
        trace(type(eg).__name__, ",".join(type(x).__name__ for x in eg.exceptions), "cancelling", me.cancelling())
    await asyncio.sleep(0.01)
    trace("main continues")
