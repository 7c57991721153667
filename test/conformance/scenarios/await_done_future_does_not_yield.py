import asyncio

async def main(trace):
    loop = asyncio.get_running_loop()

    async def child():
        trace("child ran")

    async def plain():
        return 7

    fut = loop.create_future()
    fut.set_result(5)
    t = asyncio.create_task(child())
    v = await fut
    trace("awaited done future", v, t.done())
    v2 = await plain()
    trace("awaited coroutine", v2, t.done())
    v3 = await fut
    trace("awaited again", v3, t.done())
    await asyncio.sleep(0)
    trace("after sleep0", t.done())
