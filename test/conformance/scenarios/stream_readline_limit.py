import asyncio


def show(b):
    return b.decode().replace("\n", "\\n")


async def main(trace):
    loop = asyncio.get_running_loop()
    r = asyncio.StreamReader(limit=7)
    loop.call_later(0.01, r.feed_data, b"chunk1")
    loop.call_later(0.02, r.feed_data, b"chunk2\n")
    loop.call_later(0.03, r.feed_data, b"chunk3\n1234567\n12345678\n")
    try:
        await r.readline()
    except ValueError as e:
        trace("readline", type(e).__name__, str(e))
    trace("next", show(await r.readline()))
    trace("exactly the limit", show(await r.readline()))
    try:
        await r.readline()
    except ValueError as e:
        trace("one past the limit", type(e).__name__, str(e))
    r.feed_data(b"no newline yet")
    try:
        await r.readline()
    except ValueError as e:
        trace("no separator", type(e).__name__, str(e))
    trace("at_eof", r.at_eof())
    loop.call_later(0.01, r.feed_data, b"tail")
    loop.call_later(0.02, r.feed_eof)
    trace("partial", show(await r.readline()))
    trace("empty", show(await r.readline()), r.at_eof())
