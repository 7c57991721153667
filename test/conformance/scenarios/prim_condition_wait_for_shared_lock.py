import asyncio

async def main(trace):
    lock = asyncio.Lock()
    not_empty = asyncio.Condition(lock)
    not_full = asyncio.Condition(lock)
    buf = []

    async def producer():
        for i in range(5):
            async with not_full:
                await not_full.wait_for(lambda: len(buf) < 2)
                buf.append(i)
                trace("put", i, "size", len(buf))
                not_empty.notify()
            await asyncio.sleep(0.001)

    async def consumer():
        got = []
        for _ in range(5):
            async with not_empty:
                v = await not_empty.wait_for(lambda: len(buf) > 0 and buf[0] + 100)
                item = buf.pop(0)
                got.append(item)
                trace("got", item, "predicate value", v)
                not_full.notify()
            await asyncio.sleep(0.003)
        return got

    _, got = await asyncio.gather(producer(), consumer())
    trace("consumer got", got)
