import asyncio


def show(b):
    return b.decode()


async def main(trace):
    loop = asyncio.get_running_loop()
    r = asyncio.StreamReader(limit=4)
    r.feed_data(b"0123")
    t = asyncio.create_task(r.readexactly(10))
    loop.call_later(0.01, r.feed_data, b"4567")
    loop.call_later(0.02, t.cancel)
    try:
        await t
    except asyncio.CancelledError:
        trace("cancelled")
    r.feed_data(b"89")
    trace("nothing lost", show(await r.readexactly(10)))
    try:
        async with asyncio.timeout(0.01):
            await r.readexactly(3)
    except TimeoutError:
        trace("timeout")
    trace("zero", show(await r.readexactly(0)))
    loop.call_later(0.01, r.feed_data, b"ab")
    loop.call_later(0.02, r.feed_eof)
    try:
        await r.readexactly(5)
    except asyncio.IncompleteReadError as e:
        trace("eof", type(e).__name__, show(e.partial), e.expected, str(e))
    try:
        await r.readexactly(-1)
    except ValueError as e:
        trace("negative", type(e).__name__)
    try:
        await r.readexactly(1)
    except asyncio.IncompleteReadError as e:
        trace("after eof", show(e.partial), e.expected)
