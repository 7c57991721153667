import asyncio

async def main(trace):
    a = asyncio.create_task(asyncio.sleep(0.05, "a"))
    b = asyncio.create_task(asyncio.sleep(0.06, "b"))

    async def waiter():
        try:
            await asyncio.wait([a, b])
        except asyncio.CancelledError:
            trace("wait cancelled")
            raise

    w = asyncio.create_task(waiter())
    await asyncio.sleep(0.01)
    w.cancel()
    try:
        await w
    except asyncio.CancelledError:
        trace("waiter cancelled", "a", a.cancelled(), "b", b.cancelled())

    async def iterating():
        async for f in asyncio.as_completed([a, b]):
            trace("got", await f)

    it = asyncio.create_task(iterating())
    await asyncio.sleep(0.045)
    it.cancel()
    try:
        await it
    except asyncio.CancelledError:
        trace("iterator task cancelled", "a", a.cancelled(), "b", b.cancelled())
    trace("results", await a, await b)
