import asyncio

async def main(trace):
    trace("start")
    async with asyncio.timeout(0.02):
        try:
            await asyncio.sleep(1)
        finally:
            trace("finally in timed-out body")
