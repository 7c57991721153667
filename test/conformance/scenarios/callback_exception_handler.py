import asyncio

async def main(trace):
    loop = asyncio.get_running_loop()

    def handler(lp, ctx):
        trace("handler", type(ctx["exception"]).__name__, ctx["message"].startswith("Exception in"))

    loop.set_exception_handler(handler)

    def bad():
        raise ValueError("boom")

    def bad_done(f):
        raise KeyError("k")

    loop.call_soon(bad)
    loop.call_soon(trace, "later cb")
    fut = loop.create_future()
    fut.add_done_callback(bad_done)
    fut.add_done_callback(lambda f: trace("second done cb", f.result()))
    fut.set_result(3)
    await asyncio.sleep(0)
    trace("main after sleep0")
    loop.call_later(0.01, bad)
    loop.call_later(0.011, trace, "timer after bad")
    await asyncio.sleep(0.02)
    trace("main end")
