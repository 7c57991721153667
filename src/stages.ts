/**
 * Async-iterator stages that compose with `imap`: `buffer`, `chunk`, `throttle`, `merge`, and `pipe`
 * to chain them. Each stage pulls its upstream from a pump task, so a stage never runs ahead of its
 * bound, and each one ends or cancels its upstream correctly: when the consumer stops early (`break`,
 * `return()`), or the consumer is cancelled, the pumps are cancelled and every upstream iterator's
 * `return()` is called; an upstream error reaches the consumer after what was already buffered.
 * @module
 */
import { inspect } from "node:util";
import { runningLoop } from "./context.js";
import { Future, throwAtCall, WaiterFuture } from "./futures.js";
import { Channel, CLOSED } from "./channel.js";
import { checkConcurrency, checkDelay, checkFunction, checkItems, checkOptions, describe } from "./internal/validate.js";
import { type DescribeOptions, FULL, show } from "./internal/describe.js";
import { Puller, type Items } from "./iteration.js";
import { RateLimiter } from "./limiters.js";
import type { Loop } from "./loop.js";
import type { Task } from "./tasks.js";

/** A stage: turns one async iterable into another. */
export type Stage<In, Out> = (source: Items<In>) => AsyncIterableIterator<Out>;

/**
 * The consumer side shared by the stages: pumps fill a channel; `next()` reads it; `return()`
 * cancels the pumps (which close their sources in `finally`) and waits for them.
 * @internal
 */
class Pumped<Out> implements AsyncIterableIterator<Out> {
  readonly loop: Loop;
  readonly chan: Channel<Out>;
  private _pumps: Task<void>[] | null = null;
  private _live = 0;

  constructor(
    capacity: number,
    private readonly _startPumps: (self: Pumped<Out>) => (() => Promise<void>)[],
    private readonly _label: string,
  ) {
    this.loop = runningLoop();
    this.chan = new Channel<Out>(this.loop, capacity);
  }

  private _start(): void {
    const bodies = this._startPumps(this);
    this._live = bodies.length;
    this._pumps = bodies.map((body, i) =>
      this.loop.createTask(
        async () => {
          try {
            await body();
          } catch (e) {
            // An upstream error: stop the other pumps, hand the error to the consumer.
            this.chan.close({ e });
            for (const p of this._pumps ?? []) if (p !== this._pumps?.[i]) p.cancel();
            return;
          } finally {
            if (--this._live === 0) this.chan.close();
          }
        },
        { name: `${this._label}-pump` },
      ),
    );
    if (this._live === 0) this.chan.close();
  }

  async next(): Promise<IteratorResult<Out>> {
    throwAtCall();
    if (this._pumps === null) this._start();
    let v: Out | typeof CLOSED;
    try {
      v = await this.chan.get();
    } catch (e) {
      await this.stop();
      throw e;
    }
    if (v === CLOSED) return { done: true, value: undefined };
    return { done: false, value: v };
  }

  async return(): Promise<IteratorResult<Out>> {
    await this.stop();
    return { done: true, value: undefined };
  }

  async stop(): Promise<void> {
    const pumps = this._pumps ?? [];
    this._pumps = pumps;
    this.chan.close();
    for (const p of pumps) p.cancel();
    await Promise.allSettled(pumps);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** @internal Its describer (see internal/describe.ts); `util.inspect` shows it. */
  _describe(o: DescribeOptions): string {
    return `<${this._label} ${this._pumps === null ? "not started" : `pumps=${this._live}`} ${show(this.chan, o)}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}

/** Reads `source` into `put` until it ends or `put` reports the consumer is gone; closes it early. */
async function pump<T>(source: Items<T>, fnName: string, put: (v: T) => Promise<boolean>): Promise<void> {
  const src = new Puller(source, fnName);
  try {
    for (;;) {
      const next = src.isSync ? src.pullSync() : await src.pullAsync();
      if (typeof next === "symbol") return;
      if (!(await put(next.item))) return;
    }
  } finally {
    await src.close();
  }
}

/**
 * Decouples producer and consumer by up to `n` items: the source is read ahead into a buffer of `n`.
 * @example
 * ```ts
 * import { buffer } from "tsaio";
 * for await (const x of buffer<number>(2)([1, 2, 3])) console.log(x); // 1 2 3
 * ```
 */
export function buffer<T>(n: number): Stage<T, T> {
  checkConcurrency(n, "buffer");
  return (source) => {
    checkSource(source, "buffer");
    return new Pumped<T>(n, (self) => [() => pump(source, "buffer", (v) => self.chan.put(v))], "buffer");
  };
}

/** Options of `chunk`. */
export interface ChunkOptions {
  /** Also emit a batch once this many ms passed since its first item (even if not full). */
  ms?: number;
}

/**
 * Groups items into arrays of up to `n`; with `ms`, a batch is also emitted once `ms` passed since
 * its first item. The last batch may be shorter; empty batches are never emitted.
 * @example
 * ```ts
 * import { chunk } from "tsaio";
 * for await (const b of chunk<number>(2)([1, 2, 3, 4, 5])) console.log(b); // [ 1, 2 ] [ 3, 4 ] [ 5 ]
 * ```
 */
export function chunk<T>(n: number, options: ChunkOptions = {}): Stage<T, T[]> {
  checkConcurrency(n, "chunk");
  checkOptions(options, "chunk");
  if (n === Infinity && options.ms === undefined) throw new RangeError("chunk: `n` may be Infinity only with `ms`");
  const ms = options.ms;
  if (ms !== undefined) checkDelay(ms, "chunk", "ms");
  return (source) => {
    checkSource(source, "chunk");
    return new Pumped<T[]>(
      1,
      (self) => [
        async () => {
          let batch: T[] = [];
          let deadline: { cancel(): void } | null = null;
          let flushNow: Future<void> | null = null;
          const flush = async (): Promise<boolean> => {
            if (deadline !== null) deadline.cancel();
            deadline = null;
            if (batch.length === 0) return true;
            const b = batch;
            batch = [];
            return self.chan.put(b);
          };
          // The timer only flags the batch as due; the pump (the only writer) does the flushing.
          let due = false;
          const src = new Puller(source, "chunk");
          try {
            for (;;) {
              let next: Awaited<ReturnType<Puller<T>["pull"]>>;
              if (ms !== undefined && !src.isSync && batch.length > 0) {
                // Race the next item against the batch's deadline.
                flushNow = new WaiterFuture<void>(self.loop, self);
                const pulled = src.pullAsync();
                const w = flushNow;
                void pulled.then(
                  () => !w.done() && w.setResult(),
                  () => !w.done() && w.setResult(),
                );
                await w;
                flushNow = null;
                if (due && batch.length > 0) {
                  due = false;
                  if (!(await flush())) return;
                }
                next = await pulled;
              } else next = await src.pull();
              if (typeof next === "symbol") break;
              batch.push(next.item);
              if (batch.length === 1 && ms !== undefined) {
                due = false;
                deadline = self.loop.callLater(ms, () => {
                  due = true;
                  if (flushNow !== null && !flushNow.done()) flushNow.setResult();
                });
              }
              if (batch.length >= n || due) {
                due = false;
                if (!(await flush())) return;
              }
            }
            await flush();
          } finally {
            if (deadline !== null) (deadline as { cancel(): void }).cancel();
            await src.close();
          }
        },
      ],
      "chunk",
    );
  };
}

/**
 * Lets items through at most as fast as `rate` allows: a `RateLimiter`, or `{ limit, interval }`
 * (at most `limit` items per `interval` ms, bursts up to `limit`).
 * @example
 * ```ts
 * import { throttle, getRunningLoop, run } from "tsaio";
 * await run(async () => {
 *   const loop = getRunningLoop(), seen: string[] = [];
 *   for await (const x of throttle<number>({ limit: 2, interval: 100 })([1, 2, 3])) seen.push(`${x}@${loop.time()}ms`);
 *   console.log(seen.join(", ")); // 1@0ms, 2@0ms, 3@50ms
 * }, { clock: "virtual" });
 * ```
 */
export function throttle<T>(rate: RateLimiter | { limit: number; interval: number }): Stage<T, T> {
  const shared: RateLimiter | null = rate instanceof RateLimiter ? rate : null;
  if (shared === null) {
    if (rate === null || typeof rate !== "object") throw new TypeError(`throttle: \`rate\` must be a RateLimiter or { limit, interval }, got ${describe(rate)}`);
    new RateLimiter(rate.limit, rate.interval); // validates now, so bad numbers fail at the call site
  }
  return (source) => {
    checkSource(source, "throttle");
    // A RateLimiter given by the caller is shared; plain numbers get a fresh bucket per iteration.
    const l = shared ?? new RateLimiter((rate as { limit: number }).limit, (rate as { interval: number }).interval);
    return new Pumped<T>(
      1,
      (self) => [
        () =>
          pump(source, "throttle", async (v) => {
            await l.acquire();
            return self.chan.put(v);
          }),
      ],
      "throttle",
    );
  };
}

/**
 * Interleaves several sources, yielding items as they arrive. When the consumer stops, every source
 * is closed; the first source error cancels the others and is thrown after the items already merged.
 * @example
 * ```ts
 * import { merge, sleep } from "tsaio";
 * async function* ticks(name: string, ms: number) { for (let i = 0; i < 2; i++) { await sleep(ms); yield `${name}${i}`; } }
 * for await (const x of merge(ticks("a", 300), ticks("b", 200))) console.log(x); // b0 a0 b1 a1
 * ```
 */
export function merge<T>(...sources: Items<T>[]): AsyncIterableIterator<T> {
  sources.forEach((s, i) => checkSource(s, `merge: source ${i}`));
  return new Pumped<T>(
    Math.max(1, sources.length),
    (self) => sources.map((s, i) => () => pump(s, `merge: source ${i}`, (v) => self.chan.put(v))),
    "merge",
  );
}

/**
 * Chains stages: `pipe(source, a, b)` is `b(a(source))`, typed end to end.
 * @example
 * ```ts
 * import { pipe, buffer, chunk } from "tsaio";
 * for await (const b of pipe([1, 2, 3, 4, 5], buffer<number>(4), chunk<number>(2))) console.log(b); // [ 1, 2 ] [ 3, 4 ] [ 5 ]
 * ```
 */
export function pipe<A>(source: Items<A>): AsyncIterableIterator<A>;
export function pipe<A, B>(source: Items<A>, s1: Stage<A, B>): AsyncIterableIterator<B>;
export function pipe<A, B, C>(source: Items<A>, s1: Stage<A, B>, s2: Stage<B, C>): AsyncIterableIterator<C>;
export function pipe<A, B, C, D>(source: Items<A>, s1: Stage<A, B>, s2: Stage<B, C>, s3: Stage<C, D>): AsyncIterableIterator<D>;
export function pipe<A, B, C, D, E>(source: Items<A>, s1: Stage<A, B>, s2: Stage<B, C>, s3: Stage<C, D>, s4: Stage<D, E>): AsyncIterableIterator<E>;
export function pipe(source: Items<unknown>, ...stages: Stage<unknown, unknown>[]): AsyncIterableIterator<unknown> {
  stages.forEach((s, i) => checkFunction(s, "pipe", `stages[${i}]`));
  if (stages.length === 0) return buffer(1)(source); // still an async iterator with early-exit handling
  let it: Items<unknown> = source;
  for (const s of stages) it = s(it);
  return it as AsyncIterableIterator<unknown>;
}

function checkSource(source: unknown, fnName: string): void {
  checkItems(source, fnName, "the source must be an iterable or an async iterable");
}
