import asyncio

async def main(trace):
    lock = asyncio.Lock()
    try:
        lock.release()
    except RuntimeError:
        trace("release of unlocked lock refused")
    await lock.acquire()

    async def other():
        lock.release()
        trace("released by another task, locked", lock.locked())

    await asyncio.create_task(other())
    await lock.acquire()
    trace("still usable, locked", lock.locked())
    lock.release()
