import asyncio

async def main(trace):
    inner = asyncio.create_task(asyncio.sleep(0.01, "x"))
    caller_holder = {}

    async def caller():
        r = await asyncio.wait_for(inner, 0.1)
        trace("caller continued", r)
        return r

    # The caller is cancelled in the very iteration where inner finishes (3.12+: it must not go on).
    inner.add_done_callback(lambda f: trace("cancel caller", caller_holder["c"].cancel()))
    c = asyncio.create_task(caller())
    caller_holder["c"] = c
    try:
        await c
        trace("not reached")
    except asyncio.CancelledError:
        trace("caller cancelled", c.cancelled(), "inner result", inner.result())
