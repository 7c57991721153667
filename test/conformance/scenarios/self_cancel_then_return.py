import asyncio

async def main(trace):
    async def a():
        trace("a runs")
        asyncio.current_task().cancel()
        trace("a after self-cancel", asyncio.current_task().cancelling())
        return 12

    async def b():
        asyncio.current_task().cancel("self")
        trace("b continues")
        try:
            await asyncio.sleep(0.01)
            trace("b not reached")
        except asyncio.CancelledError as e:
            trace("b got cancel", "msg=" + str(e))
            raise

    ta = asyncio.create_task(a())
    tb = asyncio.create_task(b())
    try:
        r = await ta
        trace("a returned", r)
    except asyncio.CancelledError:
        trace("a cancelled", ta.cancelled())
    try:
        await tb
    except asyncio.CancelledError as e:
        trace("b cancelled", tb.cancelled(), "msg=" + str(e))
