import asyncio

async def main(trace):
    lock = asyncio.Lock()
    await lock.acquire()

    async def impatient(name, secs):
        try:
            async with asyncio.timeout(secs):
                await lock.acquire()
            trace(name, "acquired")
            await asyncio.sleep(0.005)
            lock.release()
        except TimeoutError:
            trace(name, "timed out, locked", lock.locked())

    ts = [asyncio.create_task(impatient(n, s)) for n, s in (("a", 0.01), ("b", 0.05), ("c", 0.02))]
    await asyncio.sleep(0.03)
    lock.release()
    await asyncio.gather(*ts)
    trace("end locked", lock.locked())
