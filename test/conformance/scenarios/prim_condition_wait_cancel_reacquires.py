import asyncio

async def main(trace):
    cond = asyncio.Condition()
    caught = []

    async def waiter():
        async with cond:
            try:
                await cond.wait()
            except asyncio.CancelledError as e:
                caught.append(e)
                trace("waiter cancelled, holds lock", cond.locked())
                raise

    w = asyncio.create_task(waiter())
    await asyncio.sleep(0.01)
    await cond.acquire()
    w.cancel()
    await asyncio.sleep(0.01)
    trace("waiter done while main holds lock:", w.done())
    cond.release()
    try:
        await w
    except asyncio.CancelledError as e:
        trace("same exception re-raised", e is caught[0])
    trace("locked at end", cond.locked())
