import asyncio

async def main(trace):
    q = asyncio.Queue(maxsize=2)

    async def blocked_get(name):
        try:
            v = await q.get()
            trace(name, "got", v)
        except asyncio.QueueShutDown:
            trace(name, "QueueShutDown")

    g = asyncio.create_task(blocked_get("getter"))
    await asyncio.sleep(0.01)
    q.shutdown()
    await g
    q2 = asyncio.Queue(maxsize=1)
    q2.put_nowait("kept")

    async def blocked_put():
        try:
            await q2.put("blocked")
        except asyncio.QueueShutDown:
            trace("putter QueueShutDown")

    p = asyncio.create_task(blocked_put())
    await asyncio.sleep(0.01)
    q2.shutdown()
    await p
    try:
        await q2.put("after")
    except asyncio.QueueShutDown:
        trace("put after shutdown: QueueShutDown")
    trace("remaining item still gettable:", await q2.get())
    try:
        await q2.get()
    except asyncio.QueueShutDown:
        trace("get on shut-down empty queue: QueueShutDown")
    try:
        q2.get_nowait()
    except asyncio.QueueShutDown:
        trace("get_nowait: QueueShutDown")
