import asyncio

async def main(trace):
    cond = asyncio.Condition()

    async def waiter(name):
        async with cond:
            try:
                await cond.wait()
                trace(name, "notified")
            except asyncio.CancelledError:
                trace(name, "cancelled after notify, holds lock", cond.locked())
                raise

    a = asyncio.create_task(waiter("a"))
    b = asyncio.create_task(waiter("b"))
    await asyncio.sleep(0.01)
    async with cond:
        cond.notify(1)   # wakes a ...
        a.cancel()       # ... which is cancelled before it runs
    await asyncio.gather(a, b, return_exceptions=True)
    trace("a cancelled", a.cancelled(), "b done", b.done() and not b.cancelled())
