import asyncio

async def main(trace):
    loop = asyncio.get_running_loop()

    async def fail(ms):
        await asyncio.sleep(ms / 1000)
        raise KeyError("k")

    done_f = loop.create_future()
    done_f.set_result("pre-done")
    tasks = [asyncio.create_task(asyncio.sleep(0.03, "slow")), asyncio.create_task(fail(10)), done_f]
    async for f in asyncio.as_completed(tasks):
        try:
            r = await f
            trace("result", r)
        except KeyError:
            trace("error KeyError")
    trace("iteration over")
