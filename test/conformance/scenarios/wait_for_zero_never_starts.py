import asyncio

async def main(trace):
    loop = asyncio.get_running_loop()
    started = []

    async def body():
        started.append(1)
        return 1

    try:
        await asyncio.wait_for(body(), 0)
        trace("not reached")
    except TimeoutError:
        trace("coroutine TimeoutError", "started", len(started))
    t = asyncio.create_task(body())
    try:
        await asyncio.wait_for(t, 0)
    except TimeoutError:
        trace("task TimeoutError", "started", len(started), "cancelled", t.cancelled())
    fut = loop.create_future()
    fut.set_result("ready")
    r = await asyncio.wait_for(fut, 0)
    trace("done future", r)
    r = await asyncio.wait_for(body(), 0.01)
    trace("positive timeout", r, "started", len(started))
