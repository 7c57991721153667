import asyncio

async def main(trace):
    async def work():
        await asyncio.sleep(0.05)
        trace("work done")
        return "saved"

    t = asyncio.create_task(work())
    try:
        await asyncio.wait_for(asyncio.shield(t), 0.01)
    except TimeoutError:
        trace("TimeoutError", "done", t.done(), "cancelled", t.cancelled())
    r = await t
    trace("task result", r)
