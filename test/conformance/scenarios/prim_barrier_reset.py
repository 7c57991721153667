import asyncio

async def main(trace):
    barrier = asyncio.Barrier(2)

    async def party(name):
        try:
            i = await barrier.wait()
            trace(name, "passed", i)
        except asyncio.BrokenBarrierError:
            trace(name, "broken by reset")

    a = asyncio.create_task(party("a"))
    await asyncio.sleep(0.01)
    await barrier.reset()
    trace("reset done, broken", barrier.broken)
    await a
    trace("n_waiting", barrier.n_waiting)
    await asyncio.gather(party("b"), party("c"))
    trace("reusable, broken", barrier.broken)
