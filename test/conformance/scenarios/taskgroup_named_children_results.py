import asyncio

async def main(trace):
    async def work(n):
        await asyncio.sleep(n / 100)
        return n * n

    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(work(n), name="worker-%d" % n) for n in (3, 1, 2)]
        trace("names", ",".join(t.get_name() for t in tasks))
        first = await tasks[1]
        trace("first", first)
    trace("results", ",".join(str(t.result()) for t in tasks))

    async def sync_fail():
        raise KeyError("immediate")

    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(sync_fail())
            trace("body before first await")
            await asyncio.sleep(0.01)
            trace("not reached")
    except ExceptionGroup as eg:
        trace("immediate failure", ",".join(type(x).__name__ for x in eg.exceptions))
