import asyncio

async def main(trace):
    pq = asyncio.PriorityQueue()
    for item in [(3, "c"), (1, "a"), (2, "b"), (1, "aa"), (0, "z")]:
        pq.put_nowait(item)
    out = []
    while not pq.empty():
        out.append(pq.get_nowait()[1])
    trace("priority order", ",".join(out))
    lq = asyncio.LifoQueue()
    for i in range(4):
        await lq.put(i)
    trace("lifo order", [lq.get_nowait() for _ in range(4)])

    async def consumer():
        v = await pq.get()
        trace("blocked priority getter got", v)

    c = asyncio.create_task(consumer())
    await asyncio.sleep(0.01)
    pq.put_nowait((5, "late"))
    await c
