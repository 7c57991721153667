import asyncio

async def main(trace):
    async def child():
        await asyncio.sleep(0.01)
        raise ValueError("bad")

    t = asyncio.create_task(child())
    trace("about to await failing child")
    try:
        await t
    finally:
        trace("finally runs", t.done())
