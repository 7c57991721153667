#!/usr/bin/env python3
"""CPython's side of bench/threading.ts and bench/suite/w9-threading.ts (issue 14).

Usage: threading_cpython.py CASE N [ARG]
  queue N        one producer thread -> one consumer thread, N items {"id": i, "name": "item-<i>"}
                 through queue.Queue(maxsize=10000), then None
  counter N P    P processes x N increments of one multiprocessing.Value("i") under get_lock()
Prints one JSON line: {"case": ..., "ms": <elapsed ms>, ...}. Each case is timed from the moment
the threads/processes are released together (they start first and wait on an Event), to the last
one's end, as the Node side is (warm workers waiting at a Barrier).

The reference is CPython 3.13: under an older python3 this script re-runs itself with a 3.13+
interpreter found as shared/conformance/vloop.py finds one (python3.14/python3.13 on PATH, or a
pyenv version), and refuses to run otherwise.
"""
import json
import multiprocessing
import queue
import sys
import threading
import time

import cpython313

def queue_case(n):
    q = queue.Queue(maxsize=10000)
    go = threading.Event()
    result = {}

    def producer():
        go.wait()
        for i in range(n):
            q.put({"id": i, "name": "item-" + str(i)})
        q.put(None)

    def consumer():
        go.wait()
        count = 0
        in_order = True
        while True:
            item = q.get()
            if item is None:
                break
            if item["id"] != count or item["name"] != "item-" + str(count):
                in_order = False
            count += 1
        result["end"] = time.perf_counter()
        result["count"] = count
        result["in_order"] = in_order

    threads = [threading.Thread(target=producer), threading.Thread(target=consumer)]
    for t in threads:
        t.start()
    t0 = time.perf_counter()
    go.set()
    for t in threads:
        t.join()
    if result["count"] != n or not result["in_order"]:
        sys.exit("queue: lost or reordered items")
    return {"ms": (result["end"] - t0) * 1000}


def _increment(v, n, go, ends, k):
    lock = v.get_lock()
    go.wait()
    for _ in range(n):
        with lock:
            v.value += 1
    ends[k] = time.perf_counter()


def counter_case(n, procs):
    ctx = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
    v = ctx.Value("i", 0)
    go = ctx.Event()
    ends = ctx.Array("d", procs, lock=False)
    ps = [ctx.Process(target=_increment, args=(v, n, go, ends, k)) for k in range(procs)]
    for p in ps:
        p.start()
    time.sleep(0.2)  # let every process reach go.wait()
    t0 = time.perf_counter()
    go.set()
    for p in ps:
        p.join()
    if v.value != n * procs:
        sys.exit("counter: lost updates: %d != %d" % (v.value, n * procs))
    # perf_counter is CLOCK_MONOTONIC on Linux: comparable across processes.
    return {"ms": (max(ends) - t0) * 1000, "total": v.value}


def main():
    cpython313.ensure(__file__)
    case = sys.argv[1]
    n = int(sys.argv[2])
    if case == "queue":
        out = queue_case(n)
    elif case == "counter":
        out = counter_case(n, int(sys.argv[3]) if len(sys.argv) > 3 else 4)
    else:
        sys.exit("unknown case " + case)
    out.update({"case": case, "n": n, "python": sys.version.split()[0]})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
