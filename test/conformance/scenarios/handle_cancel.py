import asyncio

async def main(trace):
    loop = asyncio.get_running_loop()
    h1 = loop.call_soon(trace, "soon 1")
    h2 = loop.call_soon(trace, "soon 2 (cancelled)")
    loop.call_soon(trace, "soon 3")
    h2.cancel()
    th = loop.call_later(0.01, trace, "timer (cancelled)")
    loop.call_later(0.02, trace, "timer 20")
    th.cancel()
    at = loop.call_at(loop.time() + 0.03, trace, "call_at 30")
    trace("when", round(at.when() * 1000))
    await asyncio.sleep(0.05)
    trace("cancelled flags", h1.cancelled(), h2.cancelled(), th.cancelled())

    def canceller():
        trace("canceller runs")
        h4.cancel()

    loop.call_soon(canceller)
    h4 = loop.call_soon(trace, "cancelled by an earlier callback")
    await asyncio.sleep(0)
    trace("end")
