import asyncio

async def main(trace):
    lock = asyncio.Lock()
    await lock.acquire()

    async def worker(name):
        try:
            await lock.acquire()
        except asyncio.CancelledError:
            trace(name, "cancelled while waiting, locked", lock.locked())
            raise
        trace(name, "acquired")
        lock.release()

    b = asyncio.create_task(worker("B"))
    c = asyncio.create_task(worker("C"))
    await asyncio.sleep(0)
    lock.release()      # wakes B
    b.cancel()          # ... which is cancelled before it runs
    trace("B cancelled before running")
    r = await asyncio.gather(b, c, return_exceptions=True)
    trace("B", type(r[0]).__name__, "C", r[1], "locked", lock.locked())
