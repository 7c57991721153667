import asyncio

async def main(trace):
    holder = {}

    async def noop():
        return None

    async def fail():
        await asyncio.sleep(0.01)
        raise ValueError("v")

    async def late():
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            c = noop()
            try:
                holder["tg"].create_task(c)
                trace("child: accepted")
            except RuntimeError:
                c.close()
                trace("child: refused during abort")
            raise

    try:
        async with asyncio.TaskGroup() as tg:
            holder["tg"] = tg
            tg.create_task(fail())
            tg.create_task(late())
            try:
                await asyncio.sleep(1)
            except asyncio.CancelledError:
                c = noop()
                try:
                    tg.create_task(c)
                    trace("body: accepted")
                except RuntimeError:
                    c.close()
                    trace("body: refused during abort")
                raise
    except ExceptionGroup as eg:
        trace(type(eg).__name__, ",".join(type(x).__name__ for x in eg.exceptions))
    c = noop()
    try:
        tg.create_task(c)
        trace("after exit: accepted")
    except RuntimeError:
        c.close()
        trace("after exit: refused")
