import asyncio

async def main(trace):
    async def child(i):
        trace("child start", i)
        await asyncio.sleep(0)
        trace("child end", i)
        return i

    tasks = [asyncio.create_task(child(i)) for i in range(3)]
    trace("created", ",".join(str(t.done()) for t in tasks))
    await asyncio.sleep(0)
    trace("main after sleep0")
    r = [await t for t in tasks]
    trace("results", ",".join(str(x) for x in r))
