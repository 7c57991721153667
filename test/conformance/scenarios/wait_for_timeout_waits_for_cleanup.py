import asyncio

async def main(trace):
    async def work():
        try:
            await asyncio.sleep(1)
        finally:
            trace("cleanup start")
            await asyncio.sleep(0.05)
            trace("cleanup end")

    t = asyncio.create_task(work())
    try:
        await asyncio.wait_for(t, 0.01)
    except TimeoutError as e:
        trace("TimeoutError", type(e.__cause__).__name__, "task cancelled", t.cancelled())
    try:
        await asyncio.wait_for(work(), 0.01)
    except TimeoutError as e:
        trace("coroutine form TimeoutError", type(e.__cause__).__name__, asyncio.current_task().cancelling())
