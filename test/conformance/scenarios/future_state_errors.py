import asyncio

async def main(trace):
    loop = asyncio.get_running_loop()
    f = loop.create_future()
    try:
        f.result()
    except asyncio.InvalidStateError as e:
        trace("pending result", type(e).__name__)
    try:
        f.exception()
    except asyncio.InvalidStateError as e:
        trace("pending exception", type(e).__name__)
    f.set_result(1)
    trace("done", f.done(), "exception is None", f.exception() is None, "result", f.result())
    try:
        f.set_result(2)
    except asyncio.InvalidStateError as e:
        trace("second set_result", type(e).__name__)
    trace("cancel done future", f.cancel())
    g = loop.create_future()
    g.set_exception(KeyError("k"))
    trace("failed", type(g.exception()).__name__)
    try:
        g.result()
    except KeyError:
        trace("result raised KeyError")
    h = loop.create_future()
    trace("cancel", h.cancel("why"), h.cancelled(), h.done())
    try:
        h.result()
    except asyncio.CancelledError as e:
        trace("cancelled result", "msg=" + str(e))
    try:
        h.exception()
    except asyncio.CancelledError as e:
        trace("cancelled exception", "msg=" + str(e))
    try:
        await h
    except asyncio.CancelledError as e:
        trace("await cancelled future", "msg=" + str(e), asyncio.current_task().cancelling())
