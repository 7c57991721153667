import asyncio

async def main(trace):
    fast = asyncio.create_task(asyncio.sleep(0.01, "fast"))
    slow = asyncio.create_task(asyncio.sleep(0.05, "slow"))
    done, pending = await asyncio.wait({fast, slow}, return_when=asyncio.FIRST_COMPLETED)
    trace("first completed", len(done), fast in done, len(pending), slow in pending)
    done, pending = await asyncio.wait({slow}, timeout=0.01)
    trace("timeout", len(done), len(pending), "slow cancelled", slow.cancelled(), "slow done", slow.done())
    a = asyncio.create_task(asyncio.sleep(0.01, "a"))
    b = asyncio.create_task(asyncio.sleep(0.01, "b"))
    c = asyncio.create_task(asyncio.sleep(0.05, "c"))
    done, pending = await asyncio.wait([a, b, c], return_when=asyncio.FIRST_COMPLETED)
    trace("same iteration", len(done), a in done, b in done, len(pending))
    r = await slow
    trace("slow", r)
    done, pending = await asyncio.wait([c])
    trace("all", len(done), len(pending))
