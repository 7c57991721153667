import asyncio

async def main(trace):
    q = asyncio.Queue(maxsize=1)
    q.put_nowait("old")

    async def putter():
        await q.put("blocked-putter")
        trace("putter done")

    p = asyncio.create_task(putter())
    await asyncio.sleep(0.01)
    trace("got", q.get_nowait())       # frees the slot, wakes the putter
    q.put_nowait("barger")             # ... but this takes the slot first
    trace("barger in, qsize", q.qsize())
    await asyncio.sleep(0.01)
    trace("putter still waiting:", not p.done())
    trace("got", await q.get())
    await p
    trace("got", await q.get())
