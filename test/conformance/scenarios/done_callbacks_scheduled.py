import asyncio

async def main(trace):
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    fut.add_done_callback(lambda f: trace("cb1", f.result()))
    fut.set_result(1)
    trace("after set_result")
    fut.add_done_callback(lambda f: trace("cb2", f.result()))
    trace("after add cb2")
    await asyncio.sleep(0)
    trace("main after sleep0")
    fut2 = loop.create_future()
    fut2.add_done_callback(lambda f: trace("cb3 cancelled", f.cancelled()))
    fut2.cancel()
    trace("after cancel")
    await asyncio.sleep(0)
    trace("main end")
