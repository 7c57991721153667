import asyncio

async def main(trace):
    async def worker(name):
        for i in range(3):
            trace(name + str(i))
            await asyncio.sleep(0)
        return name

    r = await asyncio.gather(worker("A"), worker("B"), worker("C"))
    trace("gather", ",".join(r))
