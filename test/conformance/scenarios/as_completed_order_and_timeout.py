import asyncio

async def main(trace):
    async def d(ms):
        await asyncio.sleep(ms / 1000)
        return ms

    tasks = [asyncio.create_task(d(30)), asyncio.create_task(d(10)), asyncio.create_task(d(20)), asyncio.create_task(d(1000))]
    try:
        async for f in asyncio.as_completed(tasks, timeout=0.1):
            r = await f
            trace("got", r, f in tasks)
    except TimeoutError:
        trace("TimeoutError")
    trace("slow", "cancelled", tasks[3].cancelled(), "done", tasks[3].done())
    r = await tasks[3]
    trace("slow result", r)
