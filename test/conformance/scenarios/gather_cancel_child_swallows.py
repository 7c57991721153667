import asyncio

async def main(trace):
    async def stubborn():
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            trace("stubborn swallowed")
            return "kept"

    async def normal():
        await asyncio.sleep(1)

    ts = asyncio.create_task(stubborn())
    tn = asyncio.create_task(normal())
    g = asyncio.gather(ts, tn)
    await asyncio.sleep(0.01)
    trace("g.cancel", g.cancel())
    try:
        r = await g
        trace("gather returned", r)
    except asyncio.CancelledError:
        trace("gather raised CancelledError", g.cancelled())
    trace("children", ts.result(), tn.cancelled())

    ts2 = asyncio.create_task(stubborn())
    g2 = asyncio.gather(ts2)
    await asyncio.sleep(0.01)
    trace("g2.cancel", g2.cancel())
    try:
        r = await g2
        trace("gather2 returned", ",".join(r))
    except asyncio.CancelledError:
        trace("gather2 raised CancelledError")
