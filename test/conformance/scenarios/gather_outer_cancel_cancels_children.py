import asyncio

async def main(trace):
    async def child(n, d):
        try:
            await asyncio.sleep(d)
            return n
        except asyncio.CancelledError:
            trace("child cancelled", n)
            raise

    g = asyncio.gather(child(1, 0.05), child(2, 0.1), return_exceptions=True)
    await asyncio.sleep(0.01)
    trace("g.cancel", g.cancel())
    try:
        await g
        trace("not reached")
    except asyncio.CancelledError:
        trace("awaiting g raised CancelledError")

    async def waiter():
        return await asyncio.gather(child(3, 0.05), child(4, 0.1))

    w = asyncio.create_task(waiter())
    await asyncio.sleep(0.01)
    trace("cancel waiter", w.cancel())
    try:
        await w
    except asyncio.CancelledError:
        trace("waiter cancelled", w.cancelled())
