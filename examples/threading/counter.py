# The Python program counter.ts ports: threads of a pool add to one counter, each addition under
# a lock, so that no update is lost. Run with: python3 examples/threading/counter.py
import threading
from concurrent.futures import ThreadPoolExecutor

THREADS = 4
TIMES = 100_000

counter = 0
lock = threading.Lock()


def increment(times):
    global counter
    for _ in range(times):
        with lock:
            counter += 1
    return threading.get_ident()


with ThreadPoolExecutor(max_workers=THREADS) as pool:
    futures = [pool.submit(increment, TIMES) for _ in range(THREADS)]
    idents = {f.result() for f in futures}

print(f"{THREADS} jobs x {TIMES} increments under one Lock, in {len(idents)} threads: counter = {counter}")
assert counter == THREADS * TIMES
