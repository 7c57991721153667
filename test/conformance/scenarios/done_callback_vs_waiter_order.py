import asyncio

async def main(trace):
    t = asyncio.create_task(asyncio.sleep(0.01, "v"))
    t.add_done_callback(lambda f: trace("cb1", f.result()))

    async def w():
        r = await t
        trace("waiter woke", r)

    wt = asyncio.create_task(w())
    await asyncio.sleep(0)
    t.add_done_callback(lambda f: trace("cb2"))
    r = await t
    trace("main woke", r)
    t.add_done_callback(lambda f: trace("cb3 on done task"))
    trace("after adding cb3")
    await wt
    trace("after awaiting done waiter task")
    await asyncio.sleep(0)
    trace("end")
