# The Python program producer-consumer.ts ports: producer threads put items into a bounded queue,
# consumer threads take them and mark each one done; the main thread waits until every item is
# done, then shuts the queue down, which ends the consumers (Python 3.13's Queue.shutdown).
# Run with: python3.13 examples/threading/producer-consumer.py
import queue
from concurrent.futures import ThreadPoolExecutor

PRODUCERS = 3
CONSUMERS = 2
ITEMS = 50  # per producer

q = queue.Queue(maxsize=10)


def produce(producer, count):
    for seq in range(count):
        q.put((producer, seq))
    return count


def consume():
    got = []
    while True:
        try:
            producer, seq = q.get()
        except queue.ShutDown:
            return got
        got.append(f"{producer}:{seq}")
        q.task_done()


with ThreadPoolExecutor(max_workers=PRODUCERS + CONSUMERS) as pool:
    consumers = [pool.submit(consume) for _ in range(CONSUMERS)]
    producers = [pool.submit(produce, p, ITEMS) for p in range(PRODUCERS)]
    produced = sum(f.result() for f in producers)
    q.join()  # every item taken and marked done
    q.shutdown()  # the consumers' next get() raises ShutDown
    taken = [f.result() for f in consumers]

keys = [k for got in taken for k in got]
expected = {f"{p}:{s}" for p in range(PRODUCERS) for s in range(ITEMS)}
print(f"{PRODUCERS} producers put {produced} items; {CONSUMERS} consumers took " + " + ".join(str(len(g)) for g in taken))
assert len(keys) == len(set(keys)) and set(keys) == expected
print(f"every one of the {produced} items consumed exactly once")
