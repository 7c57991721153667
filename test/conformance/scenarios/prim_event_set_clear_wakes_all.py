import asyncio

async def main(trace):
    ev = asyncio.Event()

    async def waiter(i):
        r = await ev.wait()
        trace("waiter", i, "returned", r, "is_set", ev.is_set())

    ts = [asyncio.create_task(waiter(i)) for i in (1, 2, 3)]
    await asyncio.sleep(0.01)
    ev.set()
    ev.clear()
    trace("set then clear, is_set", ev.is_set())
    await asyncio.gather(*ts)
    w = asyncio.create_task(ev.wait())
    await asyncio.sleep(0.01)
    trace("after clear a new wait blocks:", not w.done())
    ev.set()
    trace("wait result", await w)

    ev2 = asyncio.Event()
    order = []

    async def waiter2(i):
        await ev2.wait()
        order.append(i)

    early = [asyncio.create_task(waiter2(i)) for i in (1, 2)]
    await asyncio.sleep(0.01)
    late = asyncio.create_task(waiter2(3))  # created, not started when set() runs
    ev2.set()
    await asyncio.gather(*early, late)
    trace("order", order)
