import asyncio

async def main(trace):
    loop = asyncio.get_running_loop()

    def a():
        trace("a")
        loop.call_soon(a_child)

    def a_child():
        trace("a-child")
        loop.call_soon(trace, "a-grandchild")

    loop.call_soon(a)
    loop.call_soon(trace, "b")
    await asyncio.sleep(0)
    trace("main 1")
    await asyncio.sleep(0)
    trace("main 2")
    await asyncio.sleep(0)
    trace("main 3")
