/**
 * `Executor.map`: chunks of the input submitted as jobs, at most `buffersize` in flight, results
 * yielded in input order, the whole iteration bounded by a real-clock deadline.
 * Internal: not part of the package's public API.
 * @module
 */
import { runningLoop } from "../context.js";
import { TimeoutError } from "../errors.js";
import { Deque } from "../internal/ring.js";
import { LongTimeout } from "../internal/timers.js";
import type { ExecutorFuture } from "./future.js";
import { decodeError } from "./protocol.js";

type Job = ExecutorFuture<unknown>;

/** @internal Runs the chunks of `items` through `submitChunk` and yields the results in order. */
export async function* mapChunks(
  submitChunk: (chunk: unknown[]) => Job,
  items: Iterable<unknown> | AsyncIterable<unknown>,
  chunksize: number,
  buffersize: number,
  deadline: number,
  timeout: number | null,
): AsyncGenerator<unknown, void, undefined> {
  const isAsync = typeof (items as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function";
  const it = isAsync ? (items as AsyncIterable<unknown>)[Symbol.asyncIterator]() : (items as Iterable<unknown>)[Symbol.iterator]();
  const window = new Deque<Job>(16);
  let current: Job | null = null;
  let exhausted = false;
  try {
    for (;;) {
      while (!exhausted && window.length < buffersize) {
        const chunk: unknown[] = [];
        while (chunk.length < chunksize) {
          const r = isAsync ? await (it as AsyncIterator<unknown>).next() : (it as Iterator<unknown>).next();
          if (r.done === true) {
            exhausted = true;
            break;
          }
          chunk.push(r.value);
        }
        if (chunk.length > 0) {
          for (let i = 0; i < chunk.length; i++) {
            const t = typeof chunk[i];
            if (t === "function" || t === "symbol") throw new TypeError(`Executor.map: an item is a ${t}, which cannot be sent to a worker (structured clone)`);
          }
          window.push(submitChunk(chunk));
        }
      }
      current = window.shift() ?? null;
      if (current === null) return;
      const [values, err] = (await awaitBy(current, deadline, timeout)) as [unknown[], unknown];
      current = null;
      for (const v of values) yield v;
      if (err !== undefined) throw decodeError(err);
    }
  } finally {
    current?.cancel("map() ended");
    window.forEach((f) => f.cancel("map() ended"));
    if (!exhausted) await it.return?.();
  }
}

/** Awaits `fut`, or throws TimeoutError once the real clock passes `deadline`. */
async function awaitBy(fut: Job, deadline: number, timeout: number | null): Promise<unknown> {
  if (deadline === Infinity || fut.done()) return await fut;
  const left = deadline - performance.now();
  if (left <= 0) throw new TimeoutError(`Executor.map: no result within ${timeout} ms`);
  const w = runningLoop().createFuture<unknown>();
  const timer = new LongTimeout(() => {
    if (!w.done()) w.setException(new TimeoutError(`Executor.map: no result within ${timeout} ms`));
  }, left);
  const relay = (): void => {
    if (w.done()) return;
    if (fut.cancelled()) w.cancel();
    else {
      const e = fut.exception();
      if (e !== null) w.setException(e);
      else w.setResult(fut.result());
    }
  };
  fut.addDoneCallback(relay);
  try {
    return await w;
  } finally {
    timer.cancel();
    fut.removeDoneCallback(relay);
  }
}
