import asyncio

async def main(trace):
    ran = []

    async def body():
        ran.append(1)
        try:
            await asyncio.sleep(0.01)
        finally:
            trace("finally ran")

    t = asyncio.create_task(body())
    trace("cancel", t.cancel(), "cancelling", t.cancelling())
    try:
        await t
        trace("not reached")
    except asyncio.CancelledError:
        trace("awaited raised CancelledError")
    trace("ran", len(ran), "cancelled", t.cancelled())
