/**
 * Concurrent iteration: `map`, `imap` and `forEach` over arrays, iterables and async iterables, with
 * bounded concurrency, lazy pulling and structured cancellation (beyond asyncio: p-map's job, done
 * with task groups so that the first error cancels and awaits the work in flight).
 *
 * Work runs in at most `concurrency` worker tasks that pull items one at a time from the shared
 * source, so no more than `concurrency` items are ever pulled ahead, and a trivial `fn` costs no task
 * per item.
 * @module
 */
import { inspect } from "node:util";
import { runningLoop } from "./context.js";
import { CancelledError, ExceptionGroup } from "./errors.js";
import { throwAtCall, WaiterFuture } from "./futures.js";
import { Deque } from "./internal/ring.js";
import { checkConcurrency, checkFunction, checkItems, checkOptions, checkSignal, describe } from "./internal/validate.js";
import { type DescribeOptions, FULL } from "./internal/describe.js";
import type { Loop } from "./loop.js";
import { taskGroup, type TaskGroup } from "./taskgroups.js";
import { currentTaskOrNull, type Task } from "./tasks.js";
import { plainResume, WaiterList } from "./waiters.js";

/** What `map`, `imap` and `forEach` accept: an array, an iterable or an async iterable. */
export type Items<T> = Iterable<T> | AsyncIterable<T>;

/** Options of `map` and `forEach`. */
export interface MapOptions {
  /** How many items run at once: an integer >= 1, or Infinity. Required. */
  concurrency: number;
  /** Aborting it cancels the work in flight; the call then rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Options of `imap`. */
export interface ImapOptions {
  /** How many items run (or wait to be consumed) at once: an integer >= 1, or Infinity. Required. */
  concurrency: number;
  /** Yield results in input order (default true) or in completion order (false). */
  ordered?: boolean;
}

const DONE: unique symbol = Symbol("done");

/** Pulls items one at a time from any source, with their index; serializes async pulls. @internal */
export class Puller<T> {
  private readonly _syncIt: Iterator<T> | null = null;
  private readonly _asyncIt: AsyncIterator<T> | null = null;
  private _index = 0;
  private _finished = false;
  private _pulling: Promise<unknown> = Promise.resolve();

  constructor(items: Items<T>, fnName: string) {
    checkItems(items, fnName);
    if (typeof (items as AsyncIterable<T>)[Symbol.asyncIterator] === "function") this._asyncIt = (items as AsyncIterable<T>)[Symbol.asyncIterator]();
    else this._syncIt = (items as Iterable<T>)[Symbol.iterator]();
  }

  get isSync(): boolean {
    return this._syncIt !== null;
  }

  pullSync(): { item: T; index: number } | typeof DONE {
    if (this._finished) return DONE;
    const r = (this._syncIt as Iterator<T>).next();
    if (r.done === true) {
      this._finished = true;
      return DONE;
    }
    return { item: r.value, index: this._index++ };
  }

  /** The next item; concurrent callers are served one after the other, in call order. */
  pullAsync(): Promise<{ item: T; index: number } | typeof DONE> {
    const p = this._pulling.then(async () => {
      if (this._finished) return DONE;
      const r = await (this._asyncIt as AsyncIterator<T>).next();
      if (r.done === true) {
        this._finished = true;
        return DONE;
      }
      return { item: r.value, index: this._index++ };
    });
    this._pulling = p.catch(() => undefined);
    return p;
  }

  pull(): { item: T; index: number } | typeof DONE | Promise<{ item: T; index: number } | typeof DONE> {
    return this._syncIt !== null ? this.pullSync() : this.pullAsync();
  }

  /** Closes the source early (its `return()`), once; errors from `return()` are passed on. */
  async close(): Promise<void> {
    if (this._finished) return;
    this._finished = true;
    const it = this._syncIt ?? this._asyncIt;
    if (it !== null && typeof it.return === "function") await it.return();
  }
}

/** A group's ExceptionGroup of one error becomes that error: one failure reads as itself. */
function unwrapSingle(e: unknown): unknown {
  return e instanceof ExceptionGroup && e.exceptions.length === 1 ? e.exceptions[0] : e;
}

/** Runs `worker` `n` times concurrently in a task group; per-item tasks when n is Infinity. */
async function runWorkers<T>(
  items: Items<T>,
  concurrency: number,
  fnName: string,
  signal: AbortSignal | undefined,
  handle: (item: T, index: number) => unknown,
): Promise<void> {
  const src = new Puller(items, fnName);
  let group: TaskGroup | null = null;
  let aborted = false;
  const onAbort = (): void => {
    aborted = true;
    group?.cancel();
  };
  if (signal !== undefined) {
    if (signal.aborted) throw signal.reason;
    signal.addEventListener("abort", onAbort, { once: true });
  }
  try {
    await taskGroup(async (tg) => {
      group = tg;
      if (concurrency === Infinity) {
        // Unbounded: one task per item, started as fast as the source yields.
        for (;;) {
          const next = await src.pull();
          if (next === DONE) return;
          void tg.createTask(() => handle(next.item, next.index));
        }
      }
      const worker = async (): Promise<void> => {
        for (;;) {
          const next = src.isSync ? src.pullSync() : await src.pullAsync();
          if (next === DONE) return;
          await handle(next.item, next.index);
        }
      };
      for (let k = 0; k < concurrency; k++) void tg.createTask(worker);
    });
  } catch (e) {
    throw unwrapSingle(e);
  } finally {
    signal?.removeEventListener("abort", onAbort);
    await src.close();
  }
  if (aborted) throw (signal as AbortSignal).reason;
}

function validate(items: unknown, fn: unknown, options: unknown, fnName: string): { concurrency: number; signal: AbortSignal | undefined } {
  checkFunction(fn, fnName, "fn");
  if (options === undefined || options === null || typeof options !== "object") {
    throw new TypeError(`${fnName}: \`options\` must be an object with a \`concurrency\`, got ${describe(options)}`);
  }
  const concurrency = checkConcurrency((options as MapOptions).concurrency, fnName);
  const signal = (options as MapOptions).signal;
  checkSignal(signal, fnName);
  checkItems(items, fnName);
  return { concurrency, signal };
}

/** Whether `e` is the cancellation of the task running this code (not an error of the item). */
function isOwnCancellation(e: unknown): boolean {
  return e instanceof CancelledError && (currentTaskOrNull()?.cancelling() ?? 0) > 0;
}

/**
 * Runs `fn(item, index)` over `items` with at most `concurrency` at once and returns the results in
 * input order. Items are pulled lazily (never more than `concurrency` ahead). On the first error the
 * items in flight are cancelled and awaited, nothing new starts, and the error is thrown (an
 * `ExceptionGroup` if several failed together). With `settle: true` every outcome is collected like
 * `Promise.allSettled` instead. Cancelling the caller cancels everything in flight.
 * @example
 * ```ts
 * import { map, sleep } from "tsaio";
 * const lengths = await map(["a", "bb", "ccc"], async (s) => { await sleep(10); return s.length; }, { concurrency: 2 });
 * console.log(lengths); // [ 1, 2, 3 ]
 * ```
 */
export function map<T, R>(items: Items<T>, fn: (item: T, index: number) => R | PromiseLike<R>, options: MapOptions & { settle?: false }): Promise<R[]>;
export function map<T, R>(
  items: Items<T>,
  fn: (item: T, index: number) => R | PromiseLike<R>,
  options: MapOptions & { settle: true },
): Promise<PromiseSettledResult<R>[]>;
export async function map<T, R>(
  items: Items<T>,
  fn: (item: T, index: number) => R | PromiseLike<R>,
  options: MapOptions & { settle?: boolean },
): Promise<R[] | PromiseSettledResult<R>[]> {
  const { concurrency, signal } = validate(items, fn, options, "map");
  throwAtCall();
  if (options.settle === true) {
    const out: PromiseSettledResult<R>[] = [];
    await runWorkers(items, concurrency, "map", signal, async (item, i) => {
      try {
        out[i] = { status: "fulfilled", value: await fn(item, i) };
      } catch (e) {
        if (isOwnCancellation(e)) throw e;
        out[i] = { status: "rejected", reason: e };
      }
    });
    return out;
  }
  const out: R[] = [];
  await runWorkers(items, concurrency, "map", signal, async (item, i) => {
    out[i] = await fn(item, i);
  });
  return out;
}

/**
 * Runs `fn(item, index)` over `items` for its side effects, with at most `concurrency` at once and
 * `map`'s guarantees (lazy pulling, first error cancels and awaits the rest).
 * @example
 * ```ts
 * import { forEach, sleep } from "tsaio";
 * await forEach([3, 1, 2], async (n) => { await sleep(n * 100); console.log(n); }, { concurrency: 3 }); // 1 2 3
 * ```
 */
export async function forEach<T>(items: Items<T>, fn: (item: T, index: number) => unknown, options: MapOptions): Promise<void> {
  const { concurrency, signal } = validate(items, fn, options, "forEach");
  throwAtCall();
  await runWorkers(items, concurrency, "forEach", signal, fn);
}

type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** The iterator behind `imap`. @internal */
class Imap<T, R> implements AsyncIterableIterator<R> {
  private readonly _loop: Loop;
  private _bg: Task<void> | null = null;
  private readonly _ordered: boolean;
  private readonly _byIndex = new Map<number, Outcome<R>>();
  private readonly _fifo = new Deque<Outcome<R>>();
  private _nextIndex = 0;
  private _inWindow = 0; // pulled but not yet handed to the consumer
  /** Workers waiting for a slot of the window (a slot frees when the consumer takes a result). */
  private readonly _slotWaiters = new WaiterList(this, plainResume);
  private _consumer: WaiterFuture<void> | null = null;
  private _finished = false;
  private _failure: { e: unknown } | null = null;

  constructor(
    private readonly _items: Items<T>,
    private readonly _fn: (item: T, index: number) => R | PromiseLike<R>,
    private readonly _concurrency: number,
    ordered: boolean,
  ) {
    this._loop = runningLoop();
    this._ordered = ordered;
  }

  private _start(): void {
    this._bg = this._loop.createTask(() => this._run(), { name: "imap" });
    this._bg.addDoneCallback((t) => {
      this._finished = true;
      if (!t.cancelled() && t.exception() !== null) this._failure = { e: unwrapSingle(t.exception()) };
      this._wakeConsumer();
    });
  }

  private async _run(): Promise<void> {
    const src = new Puller(this._items, "imap");
    try {
      await taskGroup(async (tg) => {
        const worker = async (): Promise<void> => {
          for (;;) {
            // Backpressure: a slot is taken when an item is pulled, given back when it is consumed.
            while (this._inWindow >= this._concurrency) await this._slotWaiters.add(this._loop, undefined);
            this._inWindow++;
            const next = src.isSync ? src.pullSync() : await src.pullAsync();
            if (next === DONE) {
              this._inWindow--;
              return;
            }
            this._deliver(next.index, { ok: true, value: await this._fn(next.item, next.index) });
          }
        };
        if (this._concurrency !== Infinity) {
          for (let k = 0; k < this._concurrency; k++) void tg.createTask(worker);
          return;
        }
        // Unbounded: no window; one task per item, started as fast as the source yields.
        for (;;) {
          const next = await src.pull();
          if (next === DONE) return;
          this._inWindow++;
          void tg.createTask(async () => this._deliver(next.index, { ok: true, value: await this._fn(next.item, next.index) }));
        }
      });
    } finally {
      await src.close();
    }
  }

  private _deliver(index: number, o: Outcome<R>): void {
    if (this._ordered) this._byIndex.set(index, o);
    else this._fifo.push(o);
    this._wakeConsumer();
  }

  private _wakeConsumer(): void {
    const c = this._consumer;
    this._consumer = null;
    if (c !== null && !c.done()) c.setResult();
  }

  private _take(): Outcome<R> | undefined {
    let o: Outcome<R> | undefined;
    if (this._ordered) {
      o = this._byIndex.get(this._nextIndex);
      if (o !== undefined) {
        this._byIndex.delete(this._nextIndex);
        this._nextIndex++;
      }
    } else o = this._fifo.shift();
    if (o !== undefined) {
      this._inWindow--;
      this._slotWaiters.wakeNext(undefined);
    }
    return o;
  }

  async next(): Promise<IteratorResult<R>> {
    throwAtCall();
    if (this._bg === null) this._start();
    for (;;) {
      const o = this._take();
      if (o !== undefined) {
        if (o.ok) return { done: false, value: o.value };
        throw o.error;
      }
      if (this._finished) {
        if (this._failure !== null) {
          const f = this._failure;
          this._failure = null;
          throw f.e;
        }
        return { done: true, value: undefined };
      }
      this._consumer = new WaiterFuture<void>(this._loop, this);
      try {
        await this._consumer;
      } catch (e) {
        // The consumer was cancelled while waiting: the work in flight is cancelled too.
        this._bg?.cancel();
        throw e;
      }
    }
  }

  async return(): Promise<IteratorResult<R>> {
    const bg = this._bg;
    if (bg !== null && !bg.done()) {
      bg.cancel();
      await Promise.allSettled([bg]);
    }
    this._finished = true;
    this._failure = null;
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** @internal Its describer (see internal/describe.ts); `util.inspect` shows it. */
  _describe(_o: DescribeOptions): string {
    return `<imap ${this._finished ? "finished" : this._bg === null ? "not started" : "running"} inWindow=${this._inWindow}/${this._concurrency} ready=${this._ordered ? this._byIndex.size : this._fifo.length}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}

/**
 * Like `map`, as an async iterable of results with backpressure: at most `concurrency` items are in
 * flight or waiting to be consumed, so a slow consumer stops the pulling. Results come in input
 * order (`ordered: true`, the default) or as they complete. Breaking out of the `for await` cancels
 * the work in flight and closes the source. The first error cancels the rest and is thrown from the
 * iteration (after the results before it, in ordered mode).
 * @example
 * ```ts
 * import { imap, sleep } from "tsaio";
 * for await (const r of imap([300, 100, 200], (ms) => sleep(ms, ms), { concurrency: 3, ordered: false })) {
 *   console.log(r); // 100 200 300
 * }
 * ```
 */
export function imap<T, R>(items: Items<T>, fn: (item: T, index: number) => R | PromiseLike<R>, options: ImapOptions): AsyncIterableIterator<R> {
  checkFunction(fn, "imap", "fn");
  checkOptions(options, "imap");
  if (options === undefined) throw new TypeError("imap: `options` must be an object with a `concurrency`");
  const concurrency = checkConcurrency(options.concurrency, "imap");
  checkItems(items, "imap");
  return new Imap(items, fn, concurrency, options.ordered !== false);
}
