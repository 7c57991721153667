/**
 * Queues for producer/consumer tasks, asyncio's `Queue`, `PriorityQueue` and `LifoQueue`
 * (CPython 3.13's `Lib/asyncio/queues.py`, ported step for step, with 3.13's `shutdown`).
 *
 * A blocked `get()` is woken by a put but takes its item only when it runs (asyncio's design): so an
 * item is never lost to a cancelled getter, and, symmetrically, a `putNowait()` that runs between a
 * `get` and the wake-up of a blocked `put()` takes the freed slot — the woken putter then waits again
 * at the back of the line. CPython 3.13 does exactly this and tsaio matches it on purpose (the
 * conformance scenario `prim_queue_put_nowait_barges` pins it down): `put()` is FIFO among callers
 * that block, not against `putNowait()`.
 *
 * Fast paths allocate nothing of ours: a `put()` with room and a `get()` with an item complete without
 * yielding to the loop (as in asyncio) and return an already-resolved promise.
 * @module
 */
import { inspect } from "node:util";
import { runningLoop } from "./context.js";
import { InvalidStateError, QueueEmpty, QueueFull, QueueShutDown } from "./errors.js";
import { Deque } from "./internal/ring.js";
import { checkCount, describe } from "./internal/validate.js";
import { type DescribeOptions, FULL } from "./internal/describe.js";
import { throwAtCall } from "./futures.js";
import { abortedAtStart, RESOLVED_VOID, startWait, type Waiter, WaiterList } from "./waiters.js";
import { Event, type SignalOptions } from "./locks.js";

/**
 * A FIFO queue with an optional bound, asyncio's `Queue`.
 *
 * - `put` waits while the queue is full (`maxsize` > 0); `putNowait` throws `QueueFull` instead.
 * - `get` waits while it is empty; `getNowait` throws `QueueEmpty` instead.
 * - `taskDone()` after processing each item lets `join()` wait until all of them are processed.
 * - `shutdown()` makes `put` throw `QueueShutDown` and wakes blocked callers; getters still drain
 *   the remaining items, then throw `QueueShutDown`. `shutdown(true)` drops the items (counting them
 *   done) and makes `get` throw at once.
 * - `for await (const item of queue)` gets items until the queue is shut down and empty (it does
 *   not call `taskDone()` for you).
 * @typeParam T - the item type.
 * @example
 * ```ts
 * import { Queue, createTask } from "tsaio";
 * const q = new Queue<number>(2);
 * const consumer = createTask(async () => { let sum = 0; for await (const n of q) sum += n; return sum; });
 * for (let i = 1; i <= 5; i++) await q.put(i); // waits whenever 2 items are queued
 * q.shutdown();
 * console.log(await consumer); // 15
 * ```
 */
export class Queue<T> implements AsyncIterable<T> {
  /** @internal */ readonly _maxsize: number;
  /** @internal */ readonly _getters: WaiterList;
  /** @internal */ readonly _putters: WaiterList;
  /** @internal */ _unfinished = 0;
  /** @internal */ readonly _finished = new Event();
  /** @internal */ _isShutdown = false;
  /** @internal Storage of the base (FIFO) queue; subclasses keep their own. */
  _items: Deque<T> | null;

  /** A queue holding at most `maxsize` items (an integer >= 0; 0, the default, means unbounded). */
  constructor(maxsize = 0) {
    checkCount(maxsize, new.target.name, "maxsize", 0);
    this._maxsize = maxsize;
    this._getters = new WaiterList(this, getterResume);
    this._putters = new WaiterList(this, putterResume);
    this._finished.set();
    this._items = this._init();
  }

  // -------------------------------------------------------- storage, overridden by subclasses

  /** @internal */
  protected _init(): Deque<T> | null {
    return new Deque<T>(16);
  }

  /** @internal */
  protected _put(item: T): void {
    (this._items as Deque<T>).push(item);
  }

  /** @internal */
  protected _get(): T {
    return (this._items as Deque<T>).shift() as T;
  }

  /** @internal */
  protected _size(): number {
    return (this._items as Deque<T>).length;
  }

  /** @internal The items in get order, for inspection. */
  protected _snapshot(): T[] {
    return [...(this._items as Deque<T>)];
  }

  // ------------------------------------------------------------------------------- state

  /** The bound given to the constructor (0: unbounded). */
  get maxsize(): number {
    return this._maxsize;
  }

  /** How many items are in the queue. */
  qsize(): number {
    return this._size();
  }

  /** Whether the queue has no items. */
  empty(): boolean {
    return this._size() === 0;
  }

  /** Whether the queue holds `maxsize` items (never, when unbounded). */
  full(): boolean {
    return this._maxsize > 0 && this._size() >= this._maxsize;
  }

  // ------------------------------------------------------------------------------- put

  /**
   * Puts `item` in the queue, waiting while it is full (FIFO among waiting putters). Rejects with
   * `QueueShutDown` once the queue is shut down. Without yielding when there is room. A
   * cancellation point while it waits; `signal` cancels the wait.
   */
  put(item: T, options?: SignalOptions): Promise<void> {
    const signal = startWait(options, this, "put");
    if (abortedAtStart(signal)) return Promise.reject(signal);
    if (!this._isShutdown && !this.full()) {
      try {
        this._putNowait(item);
      } catch (e) {
        return Promise.reject(e as Error); // a PriorityQueue comparator that threw
      }
      return RESOLVED_VOID;
    }
    return this._putSlow(item, signal);
  }

  /** @internal */
  private _putSlow(item: T, signal: AbortSignal | undefined): Promise<void> {
    // CPython: `while self.full(): (raise if shut down) await putter` then `put_nowait(item)`.
    if (this.full()) {
      if (this._isShutdown) return Promise.reject(new QueueShutDown(`${this.constructor.name}.put(): the queue is shut down`));
      return this._putters.add(runningLoop(), signal, item);
    }
    try {
      this.putNowait(item);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    return RESOLVED_VOID;
  }

  /**
   * Puts `item` in the queue now: `QueueFull` if it is full, `QueueShutDown` if it is shut down
   * (the queue is unchanged either way).
   */
  putNowait(item: T): void {
    if (this._isShutdown) throw new QueueShutDown(`${this.constructor.name}.putNowait(): the queue is shut down`);
    if (this.full()) throw new QueueFull(`${this.constructor.name}.putNowait(): the queue is full (maxsize=${this._maxsize})`);
    this._putNowait(item);
  }

  /** @internal */
  private _putNowait(item: T): void {
    this._put(item);
    this._unfinished++;
    this._finished._value = false; // _finished.clear()
    this._getters.wakeNext(undefined);
  }

  // ------------------------------------------------------------------------------- get

  /**
   * Removes and returns the next item, waiting while the queue is empty (FIFO among waiting
   * getters). Rejects with `QueueShutDown` once the queue is shut down and empty. Without yielding
   * when an item is there. A cancellation point while it waits; `signal` cancels the wait.
   */
  get(options?: SignalOptions): Promise<T> {
    const signal = startWait(options, this, "get");
    if (abortedAtStart(signal)) return Promise.reject(signal);
    if (this._size() > 0) {
      try {
        return Promise.resolve(this._getNowait());
      } catch (e) {
        return Promise.reject(e as Error); // a PriorityQueue comparator that threw
      }
    }
    return this._getSlow(signal);
  }

  /** @internal CPython: `while self.empty(): (raise if shut down) await getter` then `get_nowait()`. */
  _getSlow(signal: AbortSignal | undefined): Promise<T> {
    if (this._isShutdown) return Promise.reject(new QueueShutDown(`${this.constructor.name}.get(): the queue is shut down and empty`));
    return this._getters.add(runningLoop(), signal);
  }

  /**
   * Removes and returns the next item now: `QueueEmpty` if there is none (`QueueShutDown` if the
   * queue is also shut down).
   */
  getNowait(): T {
    if (this._size() === 0) {
      if (this._isShutdown) throw new QueueShutDown(`${this.constructor.name}.getNowait(): the queue is shut down and empty`);
      throw new QueueEmpty(`${this.constructor.name}.getNowait(): the queue is empty`);
    }
    return this._getNowait();
  }

  /** @internal */
  _getNowait(): T {
    const item = this._get();
    this._putters.wakeNext(undefined);
    return item;
  }

  // ------------------------------------------------------------------------ join, shutdown

  /**
   * Marks one item taken from the queue as processed. `InvalidStateError` if called more times than
   * items were put (the count is unaffected).
   */
  taskDone(): void {
    if (this._unfinished <= 0) throw new InvalidStateError(`${this.constructor.name}.taskDone(): called too many times`);
    this._unfinished--;
    if (this._unfinished === 0) this._finished.set();
  }

  /**
   * Waits until every item put in the queue was processed (`taskDone()` called for it). Returns at
   * once if none is outstanding. A cancellation point while it waits; `signal` cancels the wait.
   */
  join(options?: SignalOptions): Promise<void> {
    const signal = startWait(options, this, "join");
    if (abortedAtStart(signal)) return Promise.reject(signal);
    if (this._unfinished === 0) return RESOLVED_VOID;
    return this._joinSlow(signal);
  }

  /** @internal */
  private async _joinSlow(signal: AbortSignal | undefined): Promise<void> {
    await this._finished.wait(signal === undefined ? undefined : { signal });
  }

  /**
   * Shuts the queue down: `put`/`putNowait` throw `QueueShutDown` from now on, and blocked putters
   * and getters are woken (they throw `QueueShutDown`, except getters that still find an item).
   * With `immediate`, the remaining items are dropped and counted done (so `join()` returns) and
   * `get` throws at once. Calling it again is harmless.
   */
  shutdown(immediate = false): void {
    if (typeof immediate !== "boolean") throw new TypeError(`${this.constructor.name}.shutdown: \`immediate\` must be a boolean, got ${describe(immediate)}`);
    this._isShutdown = true;
    if (immediate) {
      while (this._size() > 0) {
        this._get();
        if (this._unfinished > 0) this._unfinished--;
      }
      if (this._unfinished === 0) this._finished.set();
    }
    // Every getter must re-check (and raise QueueShutDown if the queue is empty); every putter raises.
    this._getters.wakeAll(undefined);
    this._putters.wakeAll(undefined);
  }

  /** Whether `shutdown()` was called. */
  isShutdown(): boolean {
    return this._isShutdown;
  }

  /**
   * `for await (const item of queue)`: gets items until the queue is shut down and empty. Breaking
   * out of the loop leaves the queue as it is. Does not call `taskDone()`.
   */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return new QueueIterator(this);
  }

  /** @internal Its describer (see internal/describe.ts): sizes and waiters; the first items unless redacted. */
  _describe(o: DescribeOptions): string {
    let s = `<${this.constructor.name} maxsize=${this._maxsize}`;
    const n = this._size();
    if (n > 0) s += ` qsize=${n}`;
    if (n > 0 && !o.redact) s += ` items=${inspect(this._snapshot().slice(0, 10), { depth: 0, breakLength: Infinity })}`;
    const g = this._getters.nIn;
    const p = this._putters.nIn;
    if (g > 0) s += ` getters=${g}`;
    if (p > 0) s += ` putters=${p}`;
    if (this._unfinished > 0) s += ` unfinished=${this._unfinished}`;
    if (this._isShutdown) s += " shutdown";
    return s + ">";
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}

/** The code after `await putter` in CPython's `Queue.put` loop. */
function putterResume(w: Waiter, failed: boolean, err: unknown): void {
  const q = w._list.owner as Queue<unknown>;
  const putters = q._putters;
  putters.remove(w);
  if (failed) {
    // Woken by a get but leaving: the slot must go to the next putter in line.
    if (!q.full() && !w.cancelled()) putters.wakeNext(undefined);
    w._rej(err);
    return;
  }
  if (q.full()) {
    // Someone took the slot first (a putNowait barged in): wait again, at the back of the line.
    if (q._isShutdown) w._rej(new QueueShutDown(`${q.constructor.name}.put(): the queue is shut down`));
    else putters.readd(w);
    return;
  }
  try {
    q.putNowait(w._tag);
  } catch (e) {
    w._rej(e);
    return;
  }
  w._res(undefined);
}

/** The code after `await getter` in CPython's `Queue.get` loop. */
function getterResume(w: Waiter, failed: boolean, err: unknown): void {
  const q = w._list.owner as Queue<unknown>;
  const getters = q._getters;
  getters.remove(w);
  if (failed) {
    // Woken by a put but leaving: the item must go to the next getter in line.
    if (!q.empty() && !w.cancelled()) getters.wakeNext(undefined);
    w._rej(err);
    return;
  }
  if (q.empty()) {
    if (q._isShutdown) w._rej(new QueueShutDown(`${q.constructor.name}.get(): the queue is shut down and empty`));
    else getters.readd(w);
    return;
  }
  let item: unknown;
  try {
    item = q._getNowait();
  } catch (e) {
    w._rej(e);
    return;
  }
  w._res(item);
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true }) as IteratorReturnResult<undefined>;

function iterValue(value: unknown): IteratorResult<unknown> {
  return { value, done: false };
}

function iterEnd(e: unknown): IteratorReturnResult<undefined> {
  if (e instanceof QueueShutDown) return DONE;
  throw e;
}

/** The queue's async iterator: one promise per item, no generator machinery. */
class QueueIterator<T> implements AsyncIterator<T> {
  constructor(private readonly _q: Queue<T>) {}

  next(): Promise<IteratorResult<T>> {
    const q = this._q;
    throwAtCall();
    if (q.qsize() > 0) return Promise.resolve({ value: q.getNowait(), done: false });
    return this._slow();
  }

  private _slow(): Promise<IteratorResult<T>> {
    return this._q._getSlow(undefined).then(iterValue as (v: T) => IteratorResult<T>, iterEnd);
  }

  return(): Promise<IteratorResult<T>> {
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this;
  }
}

// ---------------------------------------------------------------------------- PriorityQueue

/** A comparator: negative when `a` comes first, positive when `b` does, 0 when equal. */
export type Compare<T> = (a: T, b: T) => number;

/**
 * The default order of a {@link PriorityQueue}: numbers and bigints by value, strings by code units,
 * arrays lexicographically (like Python tuples, so `[priority, item]` works; a shorter prefix comes
 * first). Anything else, or two kinds that do not compare (a number and a string), is a `TypeError`
 * — as in Python.
 * @example
 * ```ts
 * import { defaultCompare } from "tsaio";
 * console.log(defaultCompare([1, "b"], [1, "a"]) > 0, defaultCompare(2n, 3) < 0); // true true
 * ```
 */
export function defaultCompare(a: unknown, b: unknown): number {
  const ta = typeof a;
  const tb = typeof b;
  if ((ta === "number" || ta === "bigint") && (tb === "number" || tb === "bigint")) {
    return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
  }
  if (ta === "string" && tb === "string") return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const c = defaultCompare(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  throw new TypeError(`PriorityQueue: cannot order ${describe(a)} and ${describe(b)}; give the queue a \`compare\` function`);
}

/** A NaN, or an array (a tuple) holding one at any depth. */
function holdsNaN(item: unknown): boolean {
  if (typeof item === "number") return Number.isNaN(item);
  if (Array.isArray(item)) {
    for (let i = 0; i < item.length; i++) if (holdsNaN(item[i])) return true;
  }
  return false;
}

/**
 * A queue that returns the smallest item first, asyncio's `PriorityQueue`. Equal items come out in
 * the order they were put (stable, unlike Python's heapq). The order is `compare` (default
 * {@link defaultCompare}: numbers, strings, bigints, and arrays of them like Python tuples). If
 * `compare` throws, the put or get that called it throws the same error and the queue is unchanged.
 * @example
 * ```ts
 * import { PriorityQueue } from "tsaio";
 * const q = new PriorityQueue<[number, string]>();
 * q.putNowait([2, "write docs"]);
 * q.putNowait([1, "fix bug"]);
 * q.putNowait([2, "review"]);
 * console.log(q.getNowait()[1], q.getNowait()[1], q.getNowait()[1]); // fix bug review write docs
 * ```
 */
export class PriorityQueue<T> extends Queue<T> {
  /** @internal */ _heap: T[] = [];
  /** @internal */ _seqs: number[] = [];
  /** @internal */ _seq = 0;
  /** @internal */ readonly _compare: Compare<T>;
  /** @internal */ private readonly _path = new Int32Array(64);

  /** A priority queue holding at most `maxsize` items (0: unbounded), ordered by `compare`. */
  constructor(maxsize = 0, compare?: Compare<T>) {
    super(maxsize);
    if (compare !== undefined && typeof compare !== "function") throw new TypeError(`PriorityQueue: \`compare\` must be a function, got ${describe(compare)}`);
    this._compare = compare ?? (defaultCompare as Compare<T>);
  }

  /** @internal */
  protected override _init(): null {
    return null;
  }

  /** @internal a before b? (compare, then insertion order) */
  private _less(ia: T, sa: number, ib: T, sb: number): boolean {
    const c = this._compare(ia, ib);
    if (typeof c !== "number" || Number.isNaN(c)) throw new TypeError(`PriorityQueue: \`compare\` must return a number, got ${describe(c)}`);
    return c < 0 || (c === 0 && sa < sb);
  }

  /** @internal Heap insert: find the slot first (compare may throw), then move. */
  protected override _put(item: T): void {
    // NaN is neither below nor above anything: under the default order it would sit anywhere and
    // silently break the heap's order for every later item. Refused here, before the queue changes.
    if (this._compare === defaultCompare && holdsNaN(item)) {
      throw new RangeError(`PriorityQueue: \`item\` must not be or hold NaN (it has no order), got ${inspect(item, { depth: 2, breakLength: Infinity })}`);
    }
    const heap = this._heap;
    const seqs = this._seqs;
    const seq = this._seq;
    let pos = heap.length;
    while (pos > 0) {
      const parent = (pos - 1) >> 1;
      if (!this._less(item, seq, heap[parent], seqs[parent])) break;
      pos = parent;
    }
    this._seq++;
    let c = heap.length;
    heap.push(item);
    seqs.push(seq);
    while (c > pos) {
      const parent = (c - 1) >> 1;
      heap[c] = heap[parent];
      seqs[c] = seqs[parent];
      c = parent;
    }
    heap[pos] = item;
    seqs[pos] = seq;
  }

  /** @internal Heap pop: find the path first (compare may throw), then move. */
  protected override _get(): T {
    const heap = this._heap;
    const seqs = this._seqs;
    const top = heap[0];
    const n = heap.length - 1;
    if (n === 0) {
      heap.pop();
      seqs.pop();
      return top;
    }
    const last = heap[n];
    const lastSeq = seqs[n];
    const path = this._path;
    let depth = 0;
    let pos = 0;
    for (;;) {
      let child = 2 * pos + 1;
      if (child >= n) break;
      if (child + 1 < n && this._less(heap[child + 1], seqs[child + 1], heap[child], seqs[child])) child++;
      if (!this._less(heap[child], seqs[child], last, lastSeq)) break;
      path[depth++] = child;
      pos = child;
    }
    heap.pop();
    seqs.pop();
    let hole = 0;
    for (let i = 0; i < depth; i++) {
      const child = path[i];
      heap[hole] = heap[child];
      seqs[hole] = seqs[child];
      hole = child;
    }
    heap[hole] = last;
    seqs[hole] = lastSeq;
    return top;
  }

  /** @internal */
  protected override _size(): number {
    return this._heap.length;
  }

  /** @internal */
  protected override _snapshot(): T[] {
    const idx = this._heap.map((_, i) => i);
    idx.sort((a, b) => (this._less(this._heap[a], this._seqs[a], this._heap[b], this._seqs[b]) ? -1 : 1));
    return idx.map((i) => this._heap[i]);
  }
}

// ------------------------------------------------------------------------------- LifoQueue

/**
 * A queue that returns the most recently put item first (a stack), asyncio's `LifoQueue`.
 * @example
 * ```ts
 * import { LifoQueue } from "tsaio";
 * const q = new LifoQueue<string>();
 * q.putNowait("a");
 * q.putNowait("b");
 * console.log(await q.get(), await q.get()); // b a
 * ```
 */
export class LifoQueue<T> extends Queue<T> {
  /** @internal */ _stack: T[] = [];

  /** @internal */
  protected override _init(): null {
    return null;
  }

  /** @internal */
  protected override _put(item: T): void {
    this._stack.push(item);
  }

  /** @internal */
  protected override _get(): T {
    return this._stack.pop() as T;
  }

  /** @internal */
  protected override _size(): number {
    return this._stack.length;
  }

  /** @internal */
  protected override _snapshot(): T[] {
    return [...this._stack].reverse();
  }
}
