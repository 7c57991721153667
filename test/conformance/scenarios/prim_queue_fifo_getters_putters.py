import asyncio

async def main(trace):
    q = asyncio.Queue(maxsize=1)

    async def getter(i):
        v = await q.get()
        trace("getter", i, "got", v)

    gs = [asyncio.create_task(getter(i)) for i in range(3)]
    await asyncio.sleep(0.01)
    for v in "xyz":
        await q.put(v)
        trace("put", v)
    await asyncio.gather(*gs)

    async def putter(v):
        await q.put(v)
        trace("putter", v, "done")

    q.put_nowait("first")
    ps = [asyncio.create_task(putter(v)) for v in "abc"]
    await asyncio.sleep(0.01)
    trace("full", q.full(), "qsize", q.qsize())
    try:
        q.put_nowait("nope")
    except asyncio.QueueFull:
        trace("put_nowait on full: QueueFull")
    got = []
    for _ in range(4):
        got.append(await q.get())
    await asyncio.gather(*ps)
    trace("got", got, "empty", q.empty())
    try:
        q.get_nowait()
    except asyncio.QueueEmpty:
        trace("get_nowait on empty: QueueEmpty")
