import asyncio

async def main(trace):
    async def job(name, delay):
        await asyncio.sleep(delay)
        trace(name, "done")
        return name
    r = await asyncio.gather(job("a", 0.03), job("b", 0.01), job("c", 0.02))
    trace("gather", ",".join(r))
