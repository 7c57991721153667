import asyncio

async def main(trace):
    loop = asyncio.get_running_loop()
    me = asyncio.current_task()
    when = loop.time() + 0.01
    try:
        async with asyncio.timeout_at(when) as outer:
            try:
                async with asyncio.timeout_at(when) as inner:
                    await asyncio.sleep(1)
            except asyncio.CancelledError:
                trace("inner saw CancelledError", inner.expired())
                raise
            except TimeoutError:
                trace("inner saw TimeoutError")
                raise
    except TimeoutError:
        trace("outer TimeoutError", outer.expired(), inner.expired(), me.cancelling())
