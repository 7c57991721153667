import asyncio

async def main(trace):
    async def child():
        await asyncio.sleep(1)

    t = asyncio.create_task(child())
    await asyncio.sleep(0.01)
    t.cancel()
    trace("awaiting a cancelled child without catching")
    await t
    trace("not reached")
