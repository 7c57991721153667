import asyncio

async def main(trace):
    lock = asyncio.Lock()

    async def greedy(name, rounds):
        for i in range(rounds):
            async with lock:
                trace(name, i)
                await asyncio.sleep(0.01)

    await asyncio.gather(greedy("A", 3), greedy("B", 3), greedy("C", 2))
    trace("done")
