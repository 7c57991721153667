import asyncio

async def main(trace):
    async def child():
        me = asyncio.current_task()
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            trace("caught", me.cancelling())
            trace("uncancel", me.uncancel())
        await asyncio.sleep(0.01)
        trace("child continues", me.cancelling())
        return "ok"

    t = asyncio.create_task(child())
    await asyncio.sleep(0.01)
    t.cancel()
    r = await t
    trace("result", r, t.cancelled(), t.cancelling())

    async def body():
        trace("body2 ran")
        return "v2"

    t2 = asyncio.create_task(body())
    t2.cancel()
    trace("t2 uncancel", t2.uncancel())
    r2 = await t2
    trace("t2 result", r2, t2.cancelled())

    loop = asyncio.get_running_loop()
    f = loop.create_future()

    async def waiter():
        v = await f
        trace("t3 woke", v)
        return v

    t3 = asyncio.create_task(waiter())
    await asyncio.sleep(0)
    f.set_result(3)
    trace("t3 cancel", t3.cancel())
    trace("t3 uncancel", t3.uncancel())
    r3 = await t3
    trace("t3 result", r3, t3.cancelled())
