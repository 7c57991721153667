import asyncio

async def main(trace):
    loop = asyncio.get_running_loop()
    fut = loop.create_future()

    async def waiter(name, f):
        try:
            r = await f
            trace(name, "got", r)
        except asyncio.CancelledError:
            trace(name, "cancelled")
            raise

    a = asyncio.create_task(waiter("a", fut))
    b = asyncio.create_task(waiter("b", fut))
    await asyncio.sleep(0.01)
    a.cancel()
    trace("fut cancelled by a's cancel", fut.cancelled())
    await asyncio.gather(a, b, return_exceptions=True)
    trace("a", a.cancelled(), "b", b.cancelled())

    shared = asyncio.create_task(asyncio.sleep(1, "shared"))
    c = asyncio.create_task(waiter("c", shared))
    d = asyncio.create_task(waiter("d", shared))
    await asyncio.sleep(0.01)
    c.cancel()
    await asyncio.gather(c, d, return_exceptions=True)
    trace("shared task cancelled", shared.cancelled(), "c", c.cancelled(), "d", d.cancelled(), d.cancelling())
