import asyncio

async def main(trace):
    async def spawn(tg, n):
        await asyncio.sleep(0.01)
        trace("spawn", n)
        if n < 5:
            tg.create_task(spawn(tg, n + 1))
        return n

    async with asyncio.TaskGroup() as tg:
        t = tg.create_task(spawn(tg, 1))
        trace("body done")
    trace("group exited", t.result())
