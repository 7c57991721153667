import asyncio

async def main(trace):
    q = asyncio.Queue(maxsize=1)
    q.put_nowait(0)

    async def putter(v):
        try:
            await q.put(v)
            trace("put", v)
        except asyncio.CancelledError:
            trace("putter", v, "cancelled after wake-up")
            raise

    a = asyncio.create_task(putter(1))
    b = asyncio.create_task(putter(2))
    await asyncio.sleep(0.01)
    trace("got", q.get_nowait())   # wakes putter 1
    a.cancel()                     # cancelled before it runs: the slot goes to putter 2
    await asyncio.gather(a, b, return_exceptions=True)
    trace("items", q.qsize(), q.get_nowait())
