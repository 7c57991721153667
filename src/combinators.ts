/**
 * Combinators over awaitables: gather, wait, asCompleted, waitFor, shield (asyncio's tasks.py).
 *
 * An *awaitable* is a function (run as a new Task), a Task/Future, or another thenable (awaited but
 * not cancellable: cancelling abandons it).
 * @module
 */
import { inspect } from "node:util";
import { runningLoop } from "./context.js";
import { CancelledError, InvalidStateError, TimeoutError } from "./errors.js";
import { type DoneEntry, Future, PENDING, throwAtCall } from "./futures.js";
import { checkOptionalDelay, checkOptions, describe, isThenable } from "./internal/validate.js";
import { Deque } from "./internal/ring.js";
import { type DescribeOptions, FULL, show } from "./internal/describe.js";
import type { Loop, TimerHandle } from "./loop.js";
import { timeout } from "./timeouts.js";
import { expectAwait } from "./internal/track.js";

/** Something tsaio can await: a function run as a Task, a Task/Future, or any other thenable. */
export type Awaitable<T> = (() => T | PromiseLike<T>) | PromiseLike<T>;

/** The result type of an awaitable: `ResultOf<() => Promise<number>>` is `number`. */
export type ResultOf<A> = A extends () => infer R ? Awaited<R> : A extends PromiseLike<infer R> ? R : never;

/**
 * Turns an awaitable into a Future on `loop`: a function becomes a new Task, a Future is returned
 * as is, another thenable is wrapped (cancelling the wrapper abandons the thenable).
 * @example
 * ```ts
 * import { ensureFuture } from "tsaio";
 * const f = ensureFuture(() => 7);
 * console.log(await f); // 7
 * ```
 */
export function ensureFuture<T>(aw: Awaitable<T>, loop?: Loop): Future<T> {
  if (aw instanceof Future) {
    // asyncio raises ValueError: a future cannot be moved to another loop.
    if (loop !== undefined && aw._loop !== loop) throw new InvalidStateError("ensureFuture: `loop` differs from the loop the future is bound to");
    return aw as Future<T>;
  }
  const l = loop ?? runningLoop();
  if (typeof aw === "function") return l.createTask(aw as () => T | PromiseLike<T>);
  if (isThenable(aw)) {
    const f = new Future<T>(l);
    aw.then(
      (v) => {
        if (f._state === PENDING) f.setResult(v);
      },
      (e: unknown) => {
        if (f._state === PENDING) f.setException(e);
      },
    );
    return f;
  }
  throw new TypeError(`ensureFuture: \`aw\` must be an awaitable (a function, a Task/Future or a promise), got ${describe(aw)}`);
}

function toFutures(aws: unknown, fnName: string, loop: Loop): Future<unknown>[] {
  if (aws === null || typeof aws !== "object" || typeof (aws as Iterable<unknown>)[Symbol.iterator] !== "function") {
    throw new TypeError(`${fnName}: \`aws\` must be an array (or iterable) of awaitables, got ${describe(aws)}`);
  }
  const list = Array.isArray(aws) ? (aws as unknown[]) : [...(aws as Iterable<unknown>)];
  // Check everything before starting anything: a bad element must not leave tasks running.
  for (let i = 0; i < list.length; i++) {
    const aw = list[i];
    if (!(aw instanceof Future) && typeof aw !== "function" && !isThenable(aw)) {
      throw new TypeError(`${fnName}: \`aws[${i}]\` must be a function, a Task/Future or a promise, got ${describe(aw)}`);
    }
  }
  const out = new Array<Future<unknown>>(list.length);
  for (let i = 0; i < list.length; i++) out[i] = ensureFuture(list[i] as Awaitable<unknown>, loop);
  return out;
}

/** Options of `gather`. */
export interface GatherOptions {
  /** Return errors in place of results instead of rejecting on the first error. Default false. */
  returnExceptions?: boolean;
}

/** gather()'s future: cancelling it cancels every child (asyncio's `_GatheringFuture`). @internal */
export class GatheringFuture<T> extends Future<T> implements DoneEntry {
  _children: Future<unknown>[];
  _nfinished = 0;
  _cancelRequested = false;
  readonly _returnExceptions: boolean;

  constructor(loop: Loop, children: Future<unknown>[], returnExceptions: boolean) {
    super(loop);
    this._children = children;
    this._returnExceptions = returnExceptions;
  }

  override cancel(msg?: string): boolean {
    if (this.done()) return false;
    let ret = false;
    for (const child of this._children) if (child.cancel(msg)) ret = true;
    if (ret) this._cancelRequested = true; // the children's completion finishes the gather
    return ret;
  }

  /** A child finished. */
  _onDone(fut: Future<unknown>): void {
    this._nfinished++;
    if (this.done()) {
      if (!fut.cancelled()) fut.exception(); // mark retrieved: the gather already reported
      return;
    }
    if (!this._returnExceptions) {
      if (fut.cancelled()) {
        this.setException(fut._makeCancelledError());
        return;
      }
      const exc = fut.exception();
      if (exc !== null) {
        this.setException(exc);
        return;
      }
    }
    if (this._nfinished === this._children.length) {
      const results: unknown[] = [];
      for (const f of this._children) {
        if (f.cancelled()) results.push(f._makeCancelledError());
        else {
          const e = f.exception();
          results.push(e !== null ? e : f.result());
        }
      }
      if (this._cancelRequested) this.setException(fut._makeCancelledError());
      else this.setResult(results as T);
    }
  }

  /** @internal Its children's states, by their own describers (the first 10). */
  override _describe(o: DescribeOptions): string {
    const kids = this._children;
    const shown = kids.slice(0, 10).map((c) => show(c, o));
    if (kids.length > 10) shown.push(`… ${kids.length - 10} more`);
    return `<GatheringFuture ${this._stateText(o)} finished=${this._nfinished}/${kids.length} children=[${shown.join(", ")}]>`;
  }
}

/**
 * Runs awaitables concurrently and resolves with their results in argument order (a typed tuple).
 * Without `returnExceptions`, the first error rejects the gather while the other children keep
 * running (asyncio); with it, errors take their result's place. `cancel()` on the returned Future,
 * or cancelling the task awaiting it, cancels every child.
 * @example
 * ```ts
 * import { gather, sleep } from "tsaio";
 * const [a, b] = await gather([() => sleep(20, "a"), () => sleep(10, 2)]);
 * console.log(a, b); // a 2
 * ```
 */
export function gather<const A extends readonly Awaitable<unknown>[]>(
  aws: A,
  options?: GatherOptions & { returnExceptions?: false },
): Future<{ -readonly [K in keyof A]: ResultOf<A[K]> }>;
export function gather<const A extends readonly Awaitable<unknown>[]>(
  aws: A,
  options: GatherOptions & { returnExceptions: true },
): Future<{ -readonly [K in keyof A]: ResultOf<A[K]> | Error }>;
export function gather<const A extends readonly Awaitable<unknown>[]>(aws: A, options?: GatherOptions): Future<unknown[]>;
export function gather(aws: readonly Awaitable<unknown>[], options?: GatherOptions): Future<unknown[]> {
  checkOptions(options, "gather");
  const loop = runningLoop();
  throwAtCall();
  const children = toFutures(aws, "gather", loop);
  const outer = new GatheringFuture<unknown[]>(loop, children, options?.returnExceptions === true);
  if (loop._debug) expectAwait(outer, "gather()");
  if (children.length === 0) {
    outer.setResult([]);
    return outer;
  }
  for (const c of children) {
    if (c._state !== PENDING) loop._soon(runDoneEntry, c, outer);
    else c._addEntry(outer);
  }
  return outer;
}

function runDoneEntry(this: Future<unknown>, entry: unknown): void {
  (entry as DoneEntry)._onDone(this);
}

/**
 * `wait` returns when any future finishes.
 * @example
 * ```ts
 * import { wait, sleep, FIRST_COMPLETED } from "tsaio";
 * const { done } = await wait([() => sleep(10, "a"), () => sleep(200, "b")], { returnWhen: FIRST_COMPLETED });
 * console.log(done.size); // 1
 * ```
 */
export const FIRST_COMPLETED = "FIRST_COMPLETED";
/**
 * `wait` returns when any future fails (or when all finish, if none fails).
 * @example
 * ```ts
 * import { wait, sleep, FIRST_EXCEPTION } from "tsaio";
 * const boom = async () => { await sleep(5); throw new Error("x"); };
 * const { done, pending } = await wait([boom, () => sleep(100)], { returnWhen: FIRST_EXCEPTION });
 * console.log(done.size, pending.size); // 1 1
 * ```
 */
export const FIRST_EXCEPTION = "FIRST_EXCEPTION";
/**
 * `wait` returns when all futures finish (the default).
 * @example
 * ```ts
 * import { wait, sleep, ALL_COMPLETED } from "tsaio";
 * const { done } = await wait([() => sleep(10), () => sleep(20)], { returnWhen: ALL_COMPLETED });
 * console.log(done.size); // 2
 * ```
 */
export const ALL_COMPLETED = "ALL_COMPLETED";
/** One of `FIRST_COMPLETED`, `FIRST_EXCEPTION`, `ALL_COMPLETED`. */
export type ReturnWhen = typeof FIRST_COMPLETED | typeof FIRST_EXCEPTION | typeof ALL_COMPLETED;

/** Options of `wait`. */
export interface WaitOptions {
  /** Give up after this many ms (no error: the unfinished ones are returned in `pending`). */
  timeout?: number | null;
  /** When to return; default `ALL_COMPLETED`. */
  returnWhen?: ReturnWhen;
}

/** What `wait` returns. */
export interface WaitResult<T> {
  /** The futures that finished (with a result, an error, or cancelled). */
  done: Set<Future<T>>;
  /** The futures still running (`wait` never cancels them). */
  pending: Set<Future<T>>;
}

/**
 * Waits for awaitables (functions become Tasks) until `returnWhen` is met or `timeout` passes, and
 * returns the `done` and `pending` sets. Nothing is cancelled, not even on timeout.
 * @example
 * ```ts
 * import { wait, createTask, sleep, FIRST_COMPLETED } from "tsaio";
 * const fast = createTask(() => sleep(10)), slow = createTask(() => sleep(1_000));
 * const { done, pending } = await wait([fast, slow], { returnWhen: FIRST_COMPLETED });
 * console.log(done.has(fast), pending.has(slow)); // true true
 * slow.cancel();
 * ```
 */
export async function wait<T>(aws: Iterable<Awaitable<T>>, options?: WaitOptions): Promise<WaitResult<T>> {
  checkOptions(options, "wait");
  const ms = options?.timeout;
  checkOptionalDelay(ms, "wait", "timeout");
  const returnWhen = options?.returnWhen ?? ALL_COMPLETED;
  if (returnWhen !== FIRST_COMPLETED && returnWhen !== FIRST_EXCEPTION && returnWhen !== ALL_COMPLETED) {
    throw new TypeError(`wait: \`returnWhen\` must be FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED, got ${describe(returnWhen)}`);
  }
  throwAtCall();
  const loop = runningLoop();
  const fs = [...new Set(toFutures(aws, "wait", loop))] as Future<T>[];
  if (fs.length === 0) throw new RangeError("wait: `aws` must not be empty");
  const waiter = new Future<null>(loop);
  let timer: TimerHandle | null = null;
  if (ms !== undefined && ms !== null) timer = loop.callLater(ms, releaseWaiter, waiter);
  let counter = fs.length;
  const onCompletion: DoneEntry = {
    _onDone(f: Future<unknown>): void {
      counter--;
      if (
        counter <= 0 ||
        returnWhen === FIRST_COMPLETED ||
        (returnWhen === FIRST_EXCEPTION && !f.cancelled() && f.exception() !== null)
      ) {
        if (timer !== null) timer.cancel();
        if (!waiter.done()) waiter.setResult(null);
      }
    },
  };
  for (const f of fs) {
    if (f._state !== PENDING) loop._soon(runDoneEntry, f, onCompletion);
    else f._addEntry(onCompletion);
  }
  try {
    await waiter;
  } finally {
    if (timer !== null) timer.cancel();
    for (const f of fs) f._removeEntry(onCompletion);
  }
  const done = new Set<Future<T>>();
  const pending = new Set<Future<T>>();
  for (const f of fs) (f.done() ? done : pending).add(f);
  return { done, pending };
}

function releaseWaiter(waiter: Future<null>): void {
  if (!waiter.done()) waiter.setResult(null);
}

/** Options of `asCompleted`. */
export interface AsCompletedOptions {
  /** After this many ms, the next step of the iteration throws `TimeoutError` (nothing is cancelled). */
  timeout?: number | null;
}

/** The iterator behind `asCompleted`. @internal */
class AsCompleted<T> implements AsyncIterableIterator<Future<T>>, DoneEntry {
  private readonly _todo: Set<Future<T>>;
  private readonly _done = new Deque<Future<T> | null>(); // null marks the timeout
  private _waiter: Future<null> | null = null;
  private _timer: TimerHandle | null = null;
  private readonly _loop: Loop;

  constructor(loop: Loop, fs: Future<T>[], ms: number | null | undefined) {
    this._loop = loop;
    this._todo = new Set(fs);
    for (const f of this._todo) {
      if (f._state !== PENDING) loop._soon(runDoneEntry, f, this);
      else f._addEntry(this);
    }
    if (ms !== null && ms !== undefined && this._todo.size > 0) this._timer = loop.callLater(ms, () => this._onTimeout());
  }

  _onDone(f: Future<unknown>): void {
    if (!this._todo.delete(f as Future<T>)) return;
    this._done.push(f as Future<T>);
    if (this._todo.size === 0 && this._timer !== null) {
      this._timer.cancel();
      this._timer = null;
    }
    this._wake();
  }

  /** @internal Its describer (see internal/describe.ts): futures still running, and done but not yet taken. */
  _describe(_o: DescribeOptions): string {
    return `<asCompleted pending=${this._todo.size} ready=${this._done.length}${this._timer !== null ? " timed" : ""}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }

  private _onTimeout(): void {
    this._timer = null;
    for (const f of this._todo) f._removeEntry(this);
    this._todo.clear();
    this._done.push(null);
    this._wake();
  }

  private _wake(): void {
    const w = this._waiter;
    if (w !== null && !w.done()) w.setResult(null);
  }

  async next(): Promise<IteratorResult<Future<T>>> {
    throwAtCall();
    while (this._done.length === 0) {
      if (this._todo.size === 0) return { done: true, value: undefined };
      this._waiter = new Future<null>(this._loop);
      try {
        await this._waiter;
      } finally {
        this._waiter = null;
      }
    }
    const f = this._done.shift();
    if (f === null || f === undefined) throw new TimeoutError("asCompleted: timed out");
    return { done: false, value: f };
  }

  async return(): Promise<IteratorResult<Future<T>>> {
    if (this._timer !== null) this._timer.cancel();
    this._timer = null;
    for (const f of this._todo) f._removeEntry(this);
    this._todo.clear();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * Iterates over awaitables (functions become Tasks) in completion order, yielding the Futures
 * themselves: await each one for its result or error. With `timeout`, the iteration throws
 * `TimeoutError` once it passes; the unfinished work is not cancelled.
 *
 * Typing note: TypeScript types the loop variable of `for await` as the *awaited* element type
 * (`T`), although at run time it is the `Future<T>` itself (an async iterator's values are not
 * awaited). `await f` is right either way; to call Future methods write `f as unknown as Future<T>`,
 * or iterate with `.next()`, whose result is typed `Future<T>`.
 * @example
 * ```ts
 * import { asCompleted, sleep } from "tsaio";
 * for await (const f of asCompleted([() => sleep(300, "slow"), () => sleep(100, "fast")])) {
 *   console.log(await f); // fast slow
 * }
 * ```
 */
export function asCompleted<T>(aws: Iterable<Awaitable<T>>, options?: AsCompletedOptions): AsyncIterableIterator<Future<T>> {
  checkOptions(options, "asCompleted");
  const ms = options?.timeout;
  checkOptionalDelay(ms, "asCompleted", "timeout");
  const loop = runningLoop();
  const fs = toFutures(aws, "asCompleted", loop) as Future<T>[];
  return new AsCompleted<T>(loop, fs, ms);
}

/** Cancels `fut` and waits until it is really done (its cleanup ran). */
async function cancelAndWait(fut: Future<unknown>): Promise<void> {
  const waiter = new Future<null>(fut._loop);
  const entry: DoneEntry = { _onDone: () => releaseWaiter(waiter) };
  fut._addEntry(entry);
  try {
    fut.cancel();
    await waiter;
  } finally {
    fut._removeEntry(entry);
  }
}

/**
 * Awaits `aw` with a time limit (asyncio 3.12+ semantics). A function runs inside the *current*
 * task under the limit; a Task/Future is awaited and cancelled on expiry. On expiry it waits for the
 * cancelled work to finish, then throws `TimeoutError` — unless the work swallowed the cancellation
 * and returned a value, which is then returned. `null` means no limit.
 * @example
 * ```ts
 * import { waitFor, sleep, TimeoutError } from "tsaio";
 * console.log(await waitFor(() => sleep(10, "quick"), 100)); // quick
 * try { await waitFor(() => sleep(1_000), 10); } catch (e) { console.log(e instanceof TimeoutError); } // true
 * ```
 */
export async function waitFor<T>(aw: Awaitable<T>, ms: number | null): Promise<T> {
  checkOptionalDelay(ms, "waitFor", "ms");
  if (typeof aw !== "function" && !isThenable(aw)) {
    throw new TypeError(`waitFor: \`aw\` must be a function, a Task/Future or a promise, got ${describe(aw)}`);
  }
  throwAtCall();
  if (ms !== null && ms !== undefined && ms <= 0) {
    const fut = ensureFuture(aw);
    if (fut.done()) return fut.result();
    await cancelAndWait(fut);
    try {
      return fut.result();
    } catch (e) {
      if (e instanceof CancelledError) throw new TimeoutError("waitFor: timed out", { cause: e });
      throw e;
    }
  }
  if (typeof aw === "function") return timeout(ms ?? null, () => (aw as () => T | PromiseLike<T>)());
  return timeout(ms ?? null, () => (aw instanceof Future ? (aw as Future<T>) : ensureFuture(aw)));
}

/** shield()'s outer future: it remembers the inner one for introspection. @internal */
export class ShieldFuture<T> extends Future<T> {
  constructor(
    loop: Loop,
    readonly _inner: Future<T>,
  ) {
    super(loop);
  }

  /** @internal */
  override _describe(o: DescribeOptions): string {
    return `<ShieldFuture ${this._stateText(o)} inner=${show(this._inner, o)}>`;
  }
}

/**
 * Protects `aw` from cancellation: cancelling the caller (or the returned Future) makes the caller's
 * await throw `CancelledError` while the inner work keeps running to its own result. If the inner
 * work is cancelled itself, the returned Future is cancelled too.
 * @example
 * ```ts
 * import { shield, createTask, sleep, waitFor, TimeoutError } from "tsaio";
 * const save = createTask(() => sleep(30, "saved"));
 * try { await waitFor(shield(save), 10); } catch (e) { console.log(e instanceof TimeoutError); } // true
 * console.log(await save); // saved
 * ```
 */
export function shield<T>(aw: Awaitable<T>): Future<T> {
  if (!(aw instanceof Future) && typeof aw !== "function" && !isThenable(aw)) {
    throw new TypeError(`shield: \`aw\` must be an awaitable (a function, a Task/Future or a promise), got ${describe(aw)}`);
  }
  throwAtCall();
  const inner = ensureFuture(aw);
  if (inner.done()) return inner;
  const loop = inner._loop;
  const outer = new ShieldFuture<T>(loop, inner);
  const innerDone: DoneEntry = {
    _onDone(): void {
      loop._shielded.delete(inner);
      if (outer.cancelled()) {
        if (!inner.cancelled()) inner.exception(); // retrieved: whoever cancelled the outer chose to ignore it
        return;
      }
      if (inner.cancelled()) outer.cancel();
      else {
        const exc = inner.exception();
        if (exc !== null) outer.setException(exc);
        else outer.setResult(inner.result());
      }
    },
  };
  loop._shielded.add(inner); // the loop keeps shielded work alive, as asyncio does
  inner._addEntry(innerDone);
  outer._addEntry({
    _onDone(): void {
      if (!inner.done()) inner._removeEntry(innerDone);
    },
  });
  return outer;
}
