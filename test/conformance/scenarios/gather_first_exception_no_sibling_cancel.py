import asyncio

async def main(trace):
    async def fail():
        await asyncio.sleep(0.01)
        raise ValueError("x")

    async def slow():
        try:
            await asyncio.sleep(0.05)
            trace("slow finished normally")
            return "slow"
        except asyncio.CancelledError:
            trace("slow cancelled")
            raise

    ts = asyncio.create_task(slow())
    g = asyncio.gather(fail(), ts)
    try:
        await g
    except ValueError as e:
        trace("gather raised", type(e).__name__, "slow done", ts.done(), "g done", g.done())
    r = await ts
    trace("slow result", r, ts.cancelled())
