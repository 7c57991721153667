import asyncio

async def main(trace):
    async def selfish():
        me = asyncio.current_task()
        try:
            await me
            trace("not reached")
        except RuntimeError:
            trace("refused")
        return "survived"

    t = asyncio.create_task(selfish())
    r = await t
    trace("result", r)
