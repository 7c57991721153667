import asyncio

async def main(trace):
    cond = asyncio.Condition()

    async def waiter(i):
        async with cond:
            r = await cond.wait()
            trace("waiter", i, "woke", r)

    ts = [asyncio.create_task(waiter(i)) for i in range(4)]
    await asyncio.sleep(0.01)
    try:
        cond.notify()
    except RuntimeError:
        trace("notify without the lock refused")
    async with cond:
        cond.notify(2)
    await asyncio.sleep(0.01)
    trace("after notify(2)")
    async with cond:
        cond.notify_all()
    await asyncio.gather(*ts)
    trace("all done")
