import asyncio

async def main(trace):
    loop = asyncio.get_running_loop()
    t = asyncio.create_task(asyncio.sleep(0.01, "x"))
    r = await asyncio.gather(t, t, t)
    trace("duplicates", ",".join(r))
    f = loop.create_future()
    f.set_result("done-already")
    r = await asyncio.gather(f, asyncio.sleep(0.01, "later"))
    trace("with done future", ",".join(r))
    r = await asyncio.gather()
    trace("empty", len(r))
