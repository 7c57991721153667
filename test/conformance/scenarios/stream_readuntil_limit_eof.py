import asyncio


def show(b):
    return b.decode().replace("\n", "\\n").replace("\r", "\\r")


async def main(trace):
    loop = asyncio.get_running_loop()
    r = asyncio.StreamReader(limit=3)
    r.feed_data(b"some dataAA")
    try:
        await r.readuntil(b"AAA")
    except asyncio.LimitOverrunError as e:
        trace("readuntil", type(e).__name__, e.consumed, str(e))
    r.feed_data(b"A")
    try:
        await r.readuntil(b"AAA")
    except asyncio.LimitOverrunError as e:
        trace("readuntil", type(e).__name__, e.consumed, str(e))
    trace("the data stayed", show(await r.read(12)))
    r2 = asyncio.StreamReader()
    loop.call_later(0.01, r2.feed_data, b"line 1\nli")
    loop.call_later(0.02, r2.feed_data, b"ne 2\r\nABCDEFG")
    trace("multi", show(await r2.readuntil((b"\r\n", b"\n"))))
    trace("multi", show(await r2.readuntil((b"\r\n", b"\n"))))
    trace("first end wins", show(await r2.readuntil((b"DEF", b"BCDE"))))
    loop.call_later(0.01, r2.feed_data, b"xAA")
    loop.call_later(0.02, r2.feed_eof)
    try:
        await r2.readuntil(b"AAA")
    except asyncio.IncompleteReadError as e:
        trace("eof", type(e).__name__, show(e.partial), e.expected, str(e))
    trace("at_eof", r2.at_eof())
    for bad in (b"", (), (b"",)):
        try:
            await r2.readuntil(bad)
        except ValueError as e:
            trace("bad separator", type(e).__name__)
