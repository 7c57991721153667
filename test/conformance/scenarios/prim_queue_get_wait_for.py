import asyncio

async def main(trace):
    q = asyncio.Queue()

    async def consumer(name, secs):
        try:
            v = await asyncio.wait_for(q.get(), secs)
            trace(name, "got", v)
        except TimeoutError:
            trace(name, "timed out, qsize", q.qsize())

    ts = [asyncio.create_task(consumer(n, s)) for n, s in (("a", 0.01), ("b", 0.03), ("c", 0.05))]
    await asyncio.sleep(0.02)
    q.put_nowait("x")
    q.put_nowait("y")
    await asyncio.gather(*ts)
    trace("left", q.qsize())
