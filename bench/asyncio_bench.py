"""CPython's asyncio side of the benchmark suite (bench/suite): the same work as the JS sides.

Run by the suite once per round in a fresh interpreter, so that CPython takes its turn in the same
rotation as the JS sides:  python3 bench/asyncio_bench.py CASE N [ARGS...]
It times the work inside Python (interpreter start-up is not counted) and prints one JSON sample,
with the same keys as the JS sides of that case.
"""
import asyncio
import json
import sys
import time
import tracemalloc


def duration_ms(i):
    # The same 1-10 ms durations as bench/suite/w2-sleeps.ts (a multiplicative hash of the index).
    return 1 + ((i * 2654435761) & 0xFFFFFFFF) % 10


async def work(i):
    return i


async def tasks(n):
    t0 = time.perf_counter()
    ts = [asyncio.create_task(work(i)) for i in range(n)]
    s = 0
    for t in ts:
        s += await t
    ms = (time.perf_counter() - t0) * 1e3
    assert s == n * (n - 1) // 2
    return {"ms": ms}


def _wake(fut):
    if not fut.done():
        fut.set_result(None)


def _sleep_future(loop, ms):
    # What asyncio.sleep() does inside (a future and a timer), without a task per sleep: the same
    # thing tsaio's sleep() returns, so the sides compare the same objects.
    fut = loop.create_future()
    loop.call_later(ms / 1000, _wake, fut)
    return fut


async def sleeps(n):
    loop = asyncio.get_running_loop()
    t0 = time.perf_counter()
    await asyncio.gather(*[_sleep_future(loop, duration_ms(i)) for i in range(n)])
    return {"ms": (time.perf_counter() - t0) * 1e3}


async def sleep_bytes(n):
    # Bytes per pending sleep, all pending (a timer can only fire once this coroutine yields).
    # tracemalloc counts Python allocations only, like heapUsed.
    loop = asyncio.get_running_loop()
    futs = [None] * n
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(n):
        futs[i] = _sleep_future(loop, duration_ms(i))
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    await asyncio.gather(*futs)
    return {"bytes": (after - before) / n}


async def bounded(n, limit):
    sem = asyncio.Semaphore(limit)

    async def job(i):
        async with sem:
            return await work(i)

    t0 = time.perf_counter()
    rs = await asyncio.gather(*(job(i) for i in range(n)))
    ms = (time.perf_counter() - t0) * 1e3
    assert sum(rs) == n * (n - 1) // 2
    return {"ms": ms}


async def pull(n, workers):
    rs = [None] * n
    it = iter(range(n))

    async def worker():
        for i in it:
            rs[i] = await work(i)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    ms = (time.perf_counter() - t0) * 1e3
    assert rs == list(range(n))
    return {"ms": ms}


async def lock(n):
    lk = asyncio.Lock()
    t0 = time.perf_counter()
    for _ in range(n):
        await lk.acquire()
        lk.release()
    return {"ns": (time.perf_counter() - t0) * 1e9 / n}


async def contended(n, contenders):
    lk = asyncio.Lock()
    count = 0
    per = [0] * contenders

    async def worker(k):
        nonlocal count
        while count < n:
            async with lk:
                count += 1
                per[k] += 1

    # The lock is held while the contenders start and queue up; without that head start the first
    # one would take every turn alone (an uncontended acquire does not suspend).
    t0 = time.perf_counter()
    await lk.acquire()
    ws = [asyncio.create_task(worker(k)) for k in range(contenders)]
    await asyncio.sleep(0)
    lk.release()
    await asyncio.gather(*ws)
    ns = (time.perf_counter() - t0) * 1e9 / count
    assert min(per) >= n / contenders / 2, min(per)  # it was contended: every worker had turns
    return {"ns": ns}


async def queue(n, size):
    q = asyncio.Queue(size)

    async def producer():
        for i in range(n):
            await q.put(i)

    async def consumer():
        s = 0
        for _ in range(n):
            s += await q.get()
        return s

    t0 = time.perf_counter()
    _, s = await asyncio.gather(producer(), consumer())
    ns = (time.perf_counter() - t0) * 1e9 / n
    assert s == n * (n - 1) // 2
    return {"ns": ns}


async def fanout(n, timeout_ms, slow_ms):
    # Even requests answer at once; odd ones would take slow_ms, so their timeout cancels them.
    cancelled = 0

    async def request(i):
        nonlocal cancelled
        if i % 2 == 0:
            return await work(i)
        try:
            await asyncio.sleep(slow_ms / 1000)
        except asyncio.CancelledError:
            cancelled += 1
            raise
        return i

    async def with_timeout(i):
        try:
            async with asyncio.timeout(timeout_ms / 1000):
                return await request(i)
        except TimeoutError:
            return -1

    t0 = time.perf_counter()
    rs = await asyncio.gather(*(with_timeout(i) for i in range(n)))
    ms = (time.perf_counter() - t0) * 1e3
    timed_out = sum(1 for r in rs if r == -1)
    assert timed_out == n // 2 and cancelled == n // 2, (timed_out, cancelled)
    return {"ms": ms}


CASES = {
    "tasks": tasks,
    "sleeps": sleeps,
    "sleep_bytes": sleep_bytes,
    "bounded": bounded,
    "pull": pull,
    "lock": lock,
    "contended": contended,
    "queue": queue,
    "fanout": fanout,
}

if __name__ == "__main__":
    case, *args = sys.argv[1:]
    print(json.dumps(asyncio.run(CASES[case](*(int(a) for a in args)))))
