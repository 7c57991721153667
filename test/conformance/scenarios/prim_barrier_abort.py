import asyncio

async def main(trace):
    barrier = asyncio.Barrier(3)

    async def party(name):
        try:
            i = await barrier.wait()
            trace(name, "passed", i)
        except asyncio.BrokenBarrierError:
            trace(name, "broken")

    ts = [asyncio.create_task(party(n)) for n in "ab"]
    await asyncio.sleep(0.01)
    trace("n_waiting", barrier.n_waiting)
    await barrier.abort()
    await asyncio.gather(*ts)
    trace("broken", barrier.broken, "n_waiting", barrier.n_waiting)
    await party("late")
    try:
        await barrier.wait()
    except asyncio.BrokenBarrierError:
        trace("still broken")
