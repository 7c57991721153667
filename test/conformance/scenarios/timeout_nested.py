import asyncio

async def main(trace):
    me = asyncio.current_task()
    async with asyncio.timeout(0.1) as outer:
        try:
            async with asyncio.timeout(0.01) as inner:
                await asyncio.sleep(1)
        except TimeoutError:
            trace("inner TimeoutError", inner.expired(), outer.expired(), me.cancelling())
        await asyncio.sleep(0.01)
        trace("continuing in outer")
    trace("outer done", outer.expired())

    try:
        async with asyncio.timeout(0.01) as outer2:
            try:
                async with asyncio.timeout(0.1) as inner2:
                    await asyncio.sleep(1)
            except asyncio.CancelledError:
                trace("inner2 saw CancelledError", inner2.expired())
                raise
    except TimeoutError:
        trace("outer2 TimeoutError", outer2.expired(), me.cancelling())
