import asyncio

async def main(trace):
    lock = asyncio.Lock()
    order = []
    await lock.acquire()

    async def worker(name):
        await lock.acquire()
        order.append(name)
        trace(name, "acquired")
        await asyncio.sleep(0)
        lock.release()

    tasks = [asyncio.create_task(worker(n)) for n in "ABC"]
    await asyncio.sleep(0)
    lock.release()
    trace("released, locked", lock.locked())
    await lock.acquire()
    order.append("main")
    trace("main acquired")
    lock.release()
    await asyncio.gather(*tasks)
    trace("order", ",".join(order))
