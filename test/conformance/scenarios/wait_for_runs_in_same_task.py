import asyncio

async def main(trace):
    me = asyncio.current_task()

    async def body():
        t = asyncio.current_task()
        await asyncio.sleep(0.01)
        return t is me

    r = await asyncio.wait_for(body(), 1)
    trace("same task", r)

    async def other():
        return asyncio.current_task() is me

    t = asyncio.create_task(other())
    r = await asyncio.wait_for(t, 1)
    trace("task form same task", r, me.cancelling())
