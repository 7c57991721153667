import asyncio

async def main(trace):
    sem = asyncio.Semaphore(1)
    await sem.acquire()

    async def waiter(name):
        try:
            await sem.acquire()
        except asyncio.CancelledError:
            trace(name, "cancelled after being handed the permit")
            raise
        trace(name, "acquired")
        await asyncio.sleep(0.01)
        sem.release()

    a = asyncio.create_task(waiter("a"))
    b = asyncio.create_task(waiter("b"))
    await asyncio.sleep(0.01)
    sem.release()   # handed to a
    trace("locked after release", sem.locked())
    a.cancel()
    await asyncio.gather(a, b, return_exceptions=True)
    trace("locked", sem.locked())
    async with sem:
        trace("main holds it again")
