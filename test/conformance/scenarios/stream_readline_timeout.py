import asyncio


def show(b):
    return b.decode().replace("\n", "\\n")


async def main(trace):
    loop = asyncio.get_running_loop()
    r = asyncio.StreamReader()
    r.feed_data(b"partial ")
    try:
        async with asyncio.timeout(0.01):
            await r.readline()
    except TimeoutError:
        trace("timeout")
    try:
        await asyncio.wait_for(r.readuntil(b"!"), 0.01)
    except TimeoutError:
        trace("wait_for timeout")
    loop.call_later(0.01, r.feed_data, b"line\nnext")
    loop.call_later(0.02, r.feed_data, b"!")
    trace("line", show(await r.readline()))
    trace("until", show(await r.readuntil(b"!")))

    async def reader():
        return await r.readline()

    t = asyncio.create_task(reader())
    await asyncio.sleep(0.01)
    r.feed_data(b"arrives")
    t.cancel()  # the wake-up is queued: the cancel still wins, and the data stays
    try:
        await t
    except asyncio.CancelledError:
        trace("cancelled after the wake-up")
    r.feed_data(b" whole\n")
    trace("line", show(await r.readline()))
