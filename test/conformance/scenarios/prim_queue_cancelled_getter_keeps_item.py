import asyncio

async def main(trace):
    q = asyncio.Queue()

    async def getter(name):
        try:
            v = await q.get()
            trace(name, "got", v)
        except asyncio.CancelledError:
            trace(name, "cancelled after wake-up")
            raise

    g = asyncio.create_task(getter("g1"))
    g2 = asyncio.create_task(getter("g2"))
    await asyncio.sleep(0.01)
    q.put_nowait(1)   # wakes g1
    q.put_nowait(2)   # wakes g2
    g.cancel()
    await asyncio.gather(g, g2, return_exceptions=True)
    trace("qsize", q.qsize())
    trace("next get", await q.get())
