import asyncio

async def main(trace):
    barrier = asyncio.Barrier(3)

    async def party(name):
        try:
            i = await barrier.wait()
            trace(name, "passed", i)
        except asyncio.CancelledError:
            trace(name, "cancelled")
            raise

    a = asyncio.create_task(party("a"))
    b = asyncio.create_task(party("b"))
    await asyncio.sleep(0.01)
    trace("n_waiting", barrier.n_waiting)
    a.cancel()
    await asyncio.sleep(0.01)
    trace("after cancel n_waiting", barrier.n_waiting, "broken", barrier.broken)
    c = asyncio.create_task(party("c"))
    await asyncio.sleep(0.01)
    trace("n_waiting", barrier.n_waiting)
    await asyncio.gather(party("d"), b, c)
    trace("end n_waiting", barrier.n_waiting)
