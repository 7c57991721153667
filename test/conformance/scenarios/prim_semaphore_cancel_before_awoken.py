import asyncio

async def main(trace):
    sem = asyncio.Semaphore(0)

    async def waiter(i):
        await sem.acquire()
        trace("acquired", i)

    ts = [asyncio.create_task(waiter(i)) for i in range(4)]
    await asyncio.sleep(0.01)
    ts[0].cancel()
    ts[1].cancel()
    sem.release()
    await asyncio.sleep(0.01)
    trace("states", [("cancelled" if t.cancelled() else "done" if t.done() else "waiting") for t in ts])
    sem.release()
    await asyncio.gather(*ts, return_exceptions=True)
    trace("locked", sem.locked())
