import asyncio

async def main(trace):
    async def inner():
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError as e:
            trace("inner got", "msg=" + str(e))
            raise

    async def outer():
        t = asyncio.create_task(inner())
        try:
            await t
        except asyncio.CancelledError as e:
            trace("outer got", "msg=" + str(e))
            raise

    o = asyncio.create_task(outer())
    await asyncio.sleep(0.01)
    o.cancel("stop now")
    try:
        await o
    except asyncio.CancelledError as e:
        trace("main got", "msg=" + str(e))

    g = asyncio.gather(inner(), inner())
    await asyncio.sleep(0.01)
    g.cancel("gather msg")
    try:
        await g
    except asyncio.CancelledError as e:
        trace("gather got", "msg=" + str(e))
