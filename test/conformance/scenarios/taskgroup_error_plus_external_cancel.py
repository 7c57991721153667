import asyncio

async def main(trace):
    holder = {}

    async def fail():
        await asyncio.sleep(0.01)
        trace("child cancels runner and raises")
        holder["runner"].cancel()
        raise ValueError("v")

    async def runner():
        me = asyncio.current_task()
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(fail())
                await asyncio.sleep(1)
        except ExceptionGroup as eg:
            trace("runner got", type(eg).__name__, ",".join(type(x).__name__ for x in eg.exceptions), "cancelling", me.cancelling())
        try:
            await asyncio.sleep(0.01)
            trace("not reached")
        except asyncio.CancelledError:
            trace("next await cancelled", me.cancelling())
            raise

    r = asyncio.create_task(runner())
    holder["runner"] = r
    try:
        await r
    except asyncio.CancelledError:
        trace("runner cancelled", r.cancelled())
