#!/usr/bin/env python3
"""CPython's side of bench/multiprocessing.ts and bench/suite/w10-multiprocessing.ts (issue 14).

Usage: multiprocessing_cpython.py CASE N
  pipe N     the parent sends N small messages {"id": i, "name": "item-<i>"} through
             multiprocessing.Pipe() to a child Process, which receives them all and answers once
  queue N    the same N messages through a multiprocessing.Queue() to a child Process
Prints one JSON line: {"case": ..., "ms": <elapsed ms>, "n": N, "python": ...}. Timed from the first
send (the child is started first and has said it is ready) to the child's answer, as the Node side.

The reference is CPython 3.13: under an older python3 this script re-runs itself with a 3.13+
interpreter found as shared/conformance/vloop.py finds one (python3.14/python3.13 on PATH, or a
pyenv version), and refuses to run otherwise.
"""
import json
import multiprocessing
import sys
import time

import cpython313

def _pipe_child(conn, n):
    conn.send("ready")
    count = 0
    in_order = True
    for i in range(n):
        m = conn.recv()
        if m["id"] != i:
            in_order = False
        count += 1
    conn.send((count, in_order))


def pipe_case(n):
    ctx = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
    parent, child = ctx.Pipe()
    p = ctx.Process(target=_pipe_child, args=(child, n))
    p.start()
    assert parent.recv() == "ready"
    t0 = time.perf_counter()
    for i in range(n):
        parent.send({"id": i, "name": "item-" + str(i)})
    count, in_order = parent.recv()
    ms = (time.perf_counter() - t0) * 1000
    p.join()
    if count != n or not in_order:
        sys.exit("pipe: lost or reordered messages")
    return {"ms": ms}


def _queue_child(q, done, n):
    done.send("ready")
    count = 0
    in_order = True
    for i in range(n):
        m = q.get()
        if m["id"] != i:
            in_order = False
        count += 1
    done.send((count, in_order))


def queue_case(n):
    ctx = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
    q = ctx.Queue()
    parent, child = ctx.Pipe()
    p = ctx.Process(target=_queue_child, args=(q, child, n))
    p.start()
    assert parent.recv() == "ready"
    t0 = time.perf_counter()
    for i in range(n):
        q.put({"id": i, "name": "item-" + str(i)})
    count, in_order = parent.recv()
    ms = (time.perf_counter() - t0) * 1000
    p.join()
    if count != n or not in_order:
        sys.exit("queue: lost or reordered items")
    return {"ms": ms}


def main():
    cpython313.ensure(__file__)
    case = sys.argv[1]
    n = int(sys.argv[2])
    if case == "pipe":
        out = pipe_case(n)
    elif case == "queue":
        out = queue_case(n)
    else:
        sys.exit("unknown case " + case)
    out.update({"case": case, "n": n, "python": sys.version.split()[0]})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
