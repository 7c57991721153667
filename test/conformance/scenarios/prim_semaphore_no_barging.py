import asyncio

async def main(trace):
    sem = asyncio.Semaphore(0)
    order = []

    async def take(name):
        await sem.acquire()
        order.append(name)
        trace(name, "acquired")

    first = asyncio.create_task(take("first"))
    await asyncio.sleep(0.01)
    sem.release()
    trace("released, locked", sem.locked())
    newcomer = asyncio.create_task(take("newcomer"))
    await asyncio.sleep(0.01)
    trace("newcomer waiting:", not newcomer.done())
    sem.release()
    await asyncio.gather(first, newcomer)
    trace("order", order)
