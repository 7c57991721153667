import asyncio

async def main(trace):
    async def child(n, d):
        await asyncio.sleep(d)
        trace("child done", n)
        return n

    t1 = asyncio.create_task(child(1, 0.05))
    t2 = asyncio.create_task(child(2, 0.03))
    g = asyncio.gather(t1, t2)
    await asyncio.sleep(0.01)
    trace("cancel t1", t1.cancel())
    try:
        await g
        trace("not reached")
    except asyncio.CancelledError:
        trace("g raised CancelledError", "g.cancelled", g.cancelled(), "t2 done", t2.done())
    r = await t2
    trace("t2 result", r, "t1 cancelled", t1.cancelled())
