import asyncio


def show(b):
    return b.decode().replace("\n", "\\n")


async def main(trace):
    loop = asyncio.get_running_loop()
    r = asyncio.StreamReader()
    t1 = asyncio.create_task(r.readline())
    await asyncio.sleep(0)
    try:
        await r.read(5)
    except RuntimeError as e:
        trace("second reader", type(e).__name__)
    loop.call_later(0.01, r.feed_data, b"x\ny")
    trace("t1", show(await t1))
    trace("read", show(await r.read(5)))
    t2 = asyncio.create_task(r.read(5))
    loop.call_later(0.01, r.set_exception, ConnectionResetError("reset"))
    try:
        await t2
    except ConnectionResetError as e:
        trace("t2", type(e).__name__, str(e))
    try:
        await r.readline()
    except ConnectionResetError as e:
        trace("then every read", type(e).__name__)
    trace("exception()", type(r.exception()).__name__)
    r2 = asyncio.StreamReader()
    loop.call_later(0.01, r2.feed_data, b"a\nb\n")
    loop.call_later(0.02, r2.feed_data, b"c")
    loop.call_later(0.03, r2.feed_eof)
    async for line in r2:
        trace("line", show(line))
    trace("done", r2.at_eof())
