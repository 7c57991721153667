import asyncio

async def main(trace):
    sem = asyncio.Semaphore(2)

    async def job(i, ms):
        async with sem:
            trace("start", i)
            await asyncio.sleep(ms / 1000)
            trace("end", i)
        return i

    r = await asyncio.gather(*(job(i, ms) for i, ms in enumerate([30, 10, 20, 10, 5])))
    trace("results", r)
