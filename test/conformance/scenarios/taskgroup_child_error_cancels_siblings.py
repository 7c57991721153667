import asyncio

async def main(trace):
    loop = asyncio.get_running_loop()
    me = asyncio.current_task()
    gate = loop.create_future()
    loop.call_later(0.01, gate.set_result, None)

    async def fail(exc):
        await gate
        trace("raising", type(exc).__name__)
        raise exc

    async def sibling():
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            trace("sibling cancelled")
            raise

    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(fail(ValueError("v")))
            tg.create_task(fail(KeyError("k")))
            tg.create_task(sibling())
            try:
                await asyncio.sleep(1)
            except asyncio.CancelledError:
                trace("body cancelled", me.cancelling())
                raise
    except ExceptionGroup as eg:
        trace(type(eg).__name__, ",".join(type(x).__name__ for x in eg.exceptions), "cancelling", me.cancelling())
    await asyncio.sleep(0.01)
    trace("main continues")
