import asyncio

async def main(trace):
    async def fail():
        await asyncio.sleep(0.01)
        raise ValueError("v")

    async with asyncio.TaskGroup() as tg:
        tg.create_task(fail())
        trace("body done")
