import asyncio

async def main(trace):
    q = asyncio.Queue()
    q.put_nowait("a")
    q.put_nowait("b")
    j = asyncio.create_task(q.join())
    await asyncio.sleep(0.01)
    trace("join waiting:", not j.done())
    q.shutdown(immediate=True)
    trace("qsize", q.qsize())
    await j
    trace("join finished")
    try:
        await q.get()
    except asyncio.QueueShutDown:
        trace("get: QueueShutDown")
