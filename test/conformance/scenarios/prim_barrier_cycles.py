import asyncio

async def main(trace):
    barrier = asyncio.Barrier(3)

    async def party(name, delays):
        for rnd, d in enumerate(delays):
            await asyncio.sleep(d / 1000)
            i = await barrier.wait()
            trace(name, "round", rnd, "index", i)

    await asyncio.gather(party("a", [30, 5]), party("b", [10, 20]), party("c", [20, 1]))
    trace("n_waiting", barrier.n_waiting, "broken", barrier.broken, "parties", barrier.parties)
