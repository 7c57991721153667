import asyncio

async def main(trace):
    sem = asyncio.Semaphore(0)
    order = []

    async def waiter(i):
        await sem.acquire()
        order.append(i)
        trace("acquired", i)

    ts = [asyncio.create_task(waiter(i)) for i in range(3)]
    await asyncio.sleep(0.01)
    ts[0].cancel()
    await asyncio.sleep(0.01)
    sem.release()
    sem.release()
    await asyncio.gather(*ts, return_exceptions=True)
    trace("order", order, "locked", sem.locked())
    try:
        asyncio.Semaphore(-1)
    except ValueError:
        trace("Semaphore(-1) refused")
    b = asyncio.BoundedSemaphore(1)
    try:
        b.release()
    except ValueError:
        trace("over-release refused")
    await b.acquire()
    b.release()
    trace("bounded still usable, locked", b.locked())
