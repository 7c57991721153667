import asyncio

async def main(trace):
    loop = asyncio.get_running_loop()

    async def victim():
        me = asyncio.current_task()
        try:
            async with asyncio.timeout(0.01):
                await asyncio.sleep(1)
        except TimeoutError:
            trace("victim TimeoutError")
        except asyncio.CancelledError:
            trace("victim CancelledError", me.cancelling())
            raise

    v = asyncio.create_task(victim())
    # The external cancel and the timeout fire in the same iteration (their relative order does
    # not matter: either way the task has two cancel requests and only one belongs to the timeout).
    loop.call_at(loop.time() + 0.01, v.cancel)
    try:
        await v
    except asyncio.CancelledError:
        trace("victim cancelled", v.cancelled())

    async def victim2():
        try:
            return await asyncio.wait_for(asyncio.sleep(1), 0.01)
        except TimeoutError:
            trace("victim2 TimeoutError")
        except asyncio.CancelledError:
            trace("victim2 CancelledError")
            raise

    v2 = asyncio.create_task(victim2())
    loop.call_at(loop.time() + 0.01, v2.cancel)
    try:
        await v2
    except asyncio.CancelledError:
        trace("victim2 cancelled", v2.cancelled())
