import asyncio

async def main(trace):
    async def work():
        await asyncio.sleep(0.05)
        trace("work done")
        return "result"

    inner = asyncio.create_task(work())

    async def caller():
        try:
            return await asyncio.shield(inner)
        except asyncio.CancelledError:
            trace("caller cancelled", "inner done", inner.done())
            raise

    c = asyncio.create_task(caller())
    await asyncio.sleep(0.01)
    trace("cancel caller", c.cancel())
    try:
        await c
    except asyncio.CancelledError:
        trace("caller task cancelled", c.cancelled(), "inner cancelled", inner.cancelled())
    r = await inner
    trace("inner result", r, inner.cancelled())
    outer = asyncio.shield(asyncio.create_task(work()))
    await asyncio.sleep(0.01)
    trace("cancel outer future", outer.cancel())
    await asyncio.sleep(0.05)
    trace("end", outer.cancelled())
