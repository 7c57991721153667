import asyncio

async def main(trace):
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    await asyncio.sleep(0.01)
    trace("waiting on a future nobody sets")
    await fut
    trace("not reached")
