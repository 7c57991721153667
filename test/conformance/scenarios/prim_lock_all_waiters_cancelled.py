import asyncio

async def main(trace):
    lock = asyncio.Lock()
    await lock.acquire()

    async def waiter(name):
        try:
            await lock.acquire()
            trace(name, "acquired?!")
        except asyncio.CancelledError:
            trace(name, "cancelled")
            raise

    ws = [asyncio.create_task(waiter(n)) for n in "XY"]
    await asyncio.sleep(0)
    for w in ws:
        w.cancel()
    lock.release()
    # Every waiter is cancelled (not yet run): a newcomer takes the lock at once.
    await lock.acquire()
    trace("main acquired at once, locked", lock.locked())
    await asyncio.gather(*ws, return_exceptions=True)
    lock.release()
    trace("end locked", lock.locked())
