import asyncio

async def main(trace):
    q = asyncio.Queue()
    await q.join()
    trace("join on a fresh queue returns at once")
    for i in range(3):
        await q.put(i)
    for _ in range(3):
        await q.get()
    j = asyncio.create_task(q.join())
    await asyncio.sleep(0.01)
    trace("join blocked after gets without task_done:", not j.done())
    for i in range(3):
        q.task_done()
        await asyncio.sleep(0.001)
        trace("task_done", i, "join done", j.done())
    try:
        q.task_done()
    except ValueError:
        trace("fourth task_done refused")
    await q.put("again")
    trace("still usable, qsize", q.qsize())
