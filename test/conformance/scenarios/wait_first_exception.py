import asyncio

async def main(trace):
    loop = asyncio.get_running_loop()

    async def boom():
        await asyncio.sleep(0.02)
        raise ValueError("v")

    t_exc = asyncio.create_task(boom())
    t_sleep = asyncio.create_task(asyncio.sleep(0.1))
    t_can = asyncio.create_task(asyncio.sleep(1))
    loop.call_later(0.01, t_can.cancel)
    done, pending = await asyncio.wait([t_exc, t_sleep, t_can], return_when=asyncio.FIRST_EXCEPTION)
    trace("returned", len(done), t_exc in done, t_can in done, t_sleep in pending)
    trace("exception", type(t_exc.exception()).__name__)
    a = asyncio.create_task(asyncio.sleep(0.01))
    b = asyncio.create_task(asyncio.sleep(0.03))
    done, pending = await asyncio.wait([a, b], return_when=asyncio.FIRST_EXCEPTION)
    trace("no exception", len(done), len(pending))
    await t_sleep
    trace("end")
