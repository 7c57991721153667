import asyncio

async def main(trace):
    loop = asyncio.get_running_loop()
    never = loop.create_future()

    async def leaf():
        trace("leaf waits")
        await never

    async def middle():
        await asyncio.sleep(0.02)
        trace("middle awaits leaf")
        await asyncio.create_task(leaf())

    t = asyncio.create_task(middle())
    loop.call_later(0.05, trace, "last timer")
    await t
