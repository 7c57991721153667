/**
 * `Queue` across threads: a bounded multi-producer multi-consumer FIFO of structured-cloned items,
 * held in a byte ring on a SharedArrayBuffer.
 *
 * Each item is encoded at `put` (codec.ts: a fast form for plain data, else `v8.serialize`, with
 * structured-clone semantics either way) — so an item that cannot be cloned fails the `put`, not
 * the consumer — and stored as a
 * record `[u32 length][bytes]` in the ring (copied in two parts where it wraps). A short spin lock
 * (word A) guards the ring's head, tail and counts for the few instructions of a copy; nobody waits
 * while holding it. Waiters sleep on SEQ like every primitive here; every put/get bumps it.
 *
 * Words: A = spin lock, B = items, C = unfinished tasks (`taskDone`/`join`), D = shut down (1) /
 * shut down immediately (2); the ring's meta (after the words): head, tail, bytes used, maxsize.
 *
 * Order: the ring is FIFO. Waiting producers/consumers are not queued in order among themselves
 * (unlike the locks here): whoever finds room or an item first takes it.
 * @module
 */
import { inspect } from "node:util";
import { InvalidStateError, QueueEmpty, QueueFull, QueueShutDown } from "../errors.js";
import { describe } from "../internal/validate.js";
import { decode, encode } from "./codec.js";
import {
  A,
  abortedNow,
  B,
  blockUntil,
  C,
  checkHandle,
  checkMayBlock,
  D,
  deadlineOf,
  type Handle,
  NOT_YET,
  registerReviver,
  throwAtCall,
  wake,
  type WaitOp,
  type WaitOptions,
  waitAsync,
  waitOptions,
  WIRE,
  type WireForm,
  WORDS,
} from "./shared.js";

const URL_ = import.meta.url;
const HEAD_ = 0;
const TAIL = 1;
const USED = 2;
const MAX = 3;
const META = 8;
const DEFAULT_BYTES = 1 << 20;

/** The handle of a {@link Queue}. */
export interface QueueHandle extends Handle {
  readonly bufferSize: number;
}

interface Parts {
  w: Int32Array;
  meta: Int32Array;
  bytes: Uint8Array;
}

function partsOf(sab: SharedArrayBuffer, offset: number, size: number): Parts {
  return {
    w: new Int32Array(sab, offset, WORDS),
    meta: new Int32Array(sab, offset + WORDS * 4, META),
    bytes: new Uint8Array(sab, offset + WORDS * 4 + META * 4, size),
  };
}

function lockSpin(w: Int32Array): void {
  while (Atomics.compareExchange(w, A, 0, 1) !== 0);
}
function unlockSpin(w: Int32Array): void {
  Atomics.store(w, A, 0);
}

/** Copies `src` into the ring at `at` (wrapping); returns the position after it. */
function writeRing(ring: Uint8Array, at: number, src: Uint8Array): number {
  const n = src.length;
  const first = Math.min(n, ring.length - at);
  ring.set(src.subarray(0, first), at);
  if (first < n) ring.set(src.subarray(first), 0);
  return (at + n) % ring.length;
}

function readRing(ring: Uint8Array, at: number, n: number, into: Uint8Array): number {
  const first = Math.min(n, ring.length - at);
  into.set(ring.subarray(at, at + first), 0);
  if (first < n) into.set(ring.subarray(0, n - first), first);
  return (at + n) % ring.length;
}

const len4 = new Uint8Array(4);
const len4v = new DataView(len4.buffer);

/** Under the spin lock: the next record's bytes, or null if empty. */
function takeRecord(p: Parts): Uint8Array | null {
  const { w, meta, bytes } = p;
  if (w[B] === 0) return null;
  let at = readRing(bytes, meta[HEAD_], 4, len4);
  const n = len4v.getUint32(0, true);
  const out = new Uint8Array(n);
  at = readRing(bytes, at, n, out);
  meta[HEAD_] = at;
  meta[USED] -= n + 4;
  Atomics.store(w, B, w[B] - 1);
  return out;
}

class GetWait implements WaitOp<unknown> {
  constructor(private readonly p: Parts) {}
  attempt(): unknown {
    const w = this.p.w;
    lockSpin(w);
    const rec = takeRecord(this.p);
    const down = w[D];
    unlockSpin(w);
    if (rec !== null) {
      wake(w);
      return decode(rec);
    }
    if (down !== 0) throw new QueueShutDown("Queue.get(): the queue is shut down and empty");
    return NOT_YET;
  }
  giveUp(cancelled: boolean): unknown {
    if (cancelled) return undefined;
    throw new QueueEmpty("Queue.get(): no item within the timeout");
  }
}

class PutWait implements WaitOp<true> {
  constructor(
    private readonly _p: Parts,
    private readonly _data: Uint8Array,
  ) {}
  attempt(): true | typeof NOT_YET {
    const { w, meta, bytes } = this._p;
    const need = this._data.length + 4;
    lockSpin(w);
    if (w[D] !== 0) {
      unlockSpin(w);
      throw new QueueShutDown("Queue.put(): the queue is shut down");
    }
    const max = meta[MAX];
    if ((max > 0 && w[B] >= max) || bytes.length - meta[USED] < need) {
      unlockSpin(w);
      return NOT_YET;
    }
    len4v.setUint32(0, this._data.length, true);
    let at = writeRing(bytes, meta[TAIL], len4);
    at = writeRing(bytes, at, this._data);
    meta[TAIL] = at;
    meta[USED] += need;
    Atomics.add(w, C, 1);
    Atomics.store(w, B, w[B] + 1);
    unlockSpin(w);
    wake(w);
    return true;
  }
  giveUp(cancelled: boolean): true {
    if (cancelled) return true;
    throw new QueueFull("Queue.put(): no room within the timeout");
  }
}

class JoinWait implements WaitOp<true> {
  constructor(private readonly w: Int32Array) {}
  attempt(): true | typeof NOT_YET {
    return Atomics.load(this.w, C) === 0 ? true : NOT_YET;
  }
  giveUp(): true {
    throw new QueueEmpty("Queue.join(): unfinished tasks remain after the timeout");
  }
}

/**
 * A FIFO queue shared by threads, Python's `queue.Queue` with asyncio's manners: items are
 * structured-cloned (anything `postMessage` takes); `await put()`/`await get()` from any thread (a
 * cancellation point, never blocking the event loop), `putSync()`/`getSync()` in workers;
 * `taskDone()`/`join()`; `shutdown()` as in Python 3.13. Bounded by `maxsize` items (0: no limit)
 * and by its buffer (`bufferSize` bytes, default 1 MiB): an item larger than the buffer is refused
 * with its size.
 * @example
 * ```ts
 * import { Queue } from "tsaio/threading";
 * const q = new Queue<{ id: number }>(10);
 * await q.put({ id: 1 });
 * q.putNowait({ id: 2 });
 * console.log(q.qsize(), (await q.get()).id, q.getNowait().id); // 2 1 2
 * ```
 */
export class Queue<T = unknown> {
  /** @internal */ readonly _p: Parts;

  constructor(maxsize = 0, options?: { bufferSize?: number }) {
    if (!Number.isInteger(maxsize) || maxsize < 0) throw new (typeof maxsize === "number" ? RangeError : TypeError)(`Queue: \`maxsize\` must be an integer >= 0, got ${describe(maxsize)}`);
    const size = options?.bufferSize ?? DEFAULT_BYTES;
    if (!Number.isInteger(size) || size < 16) throw new (typeof size === "number" ? RangeError : TypeError)(`Queue: \`bufferSize\` must be an integer >= 16 (bytes), got ${describe(size)}`);
    const sab = new SharedArrayBuffer(WORDS * 4 + META * 4 + size);
    this._p = partsOf(sab, 0, size);
    this._p.meta[MAX] = maxsize;
  }

  /**
   * Re-attaches to a queue made in another thread, from its {@link Queue.handle}.
   * @example
   * ```ts
   * import { Queue } from "tsaio/threading";
   * const q = new Queue<string>();
   * q.putNowait("hi");
   * console.log(Queue.from<string>(q.handle).getNowait()); // hi
   * ```
   */
  static from<T = unknown>(handle: QueueHandle): Queue<T> {
    checkHandle(handle, "Queue", "Queue.from");
    const q = Object.create(Queue.prototype) as { _p: Parts };
    q._p = partsOf(handle.sab, handle.offset, handle.bufferSize);
    return q as unknown as Queue<T>;
  }

  /** A plain, structured-cloneable description, for {@link Queue.from} in another thread. */
  get handle(): QueueHandle {
    const b = this._p.w;
    return { kind: "Queue", sab: b.buffer as unknown as SharedArrayBuffer, offset: b.byteOffset, bufferSize: this._p.bytes.length };
  }

  /** The item limit (0: none). */
  get maxsize(): number {
    return this._p.meta[MAX];
  }

  /** Items in the queue now. */
  qsize(): number {
    return Atomics.load(this._p.w, B);
  }

  /** Whether it holds no item. */
  empty(): boolean {
    return this.qsize() === 0;
  }

  /** Whether it holds `maxsize` items. */
  full(): boolean {
    const m = this.maxsize;
    return m > 0 && this.qsize() >= m;
  }

  /** @internal */
  private _encode(item: T, what: string): Uint8Array {
    const data = encode(item); // throws DataCloneError for what cannot be cloned: the put fails
    if (data.length + 4 > this._p.bytes.length) {
      throw new RangeError(`${what}: the item takes ${data.length} bytes serialized, more than the queue's buffer holds (${this._p.bytes.length - 4}); make the queue with a larger \`bufferSize\``);
    }
    return data;
  }

  /** Puts `item`, waiting for room; `QueueFull` after `timeout` ms, `QueueShutDown` once shut down. A cancellation point. */
  put(item: T, options?: WaitOptions): Promise<void> {
    throwAtCall();
    const { signal, deadline } = waitOptions(options, "Queue.put");
    if (signal?.aborted === true) return abortedNow(signal);
    const op = new PutWait(this._p, this._encode(item, "Queue.put"));
    try {
      if (op.attempt() === true) return RESOLVED;
    } catch (e) {
      return Promise.reject(e as Error); // shut down: a rejection, as from a wait
    }
    return waitAsync(this, this._p.w, op, deadline, signal) as unknown as Promise<void>;
  }

  /** Puts `item` if there is room now, else throws `QueueFull`. */
  putNowait(item: T): void {
    if (new PutWait(this._p, this._encode(item, "Queue.putNowait")).attempt() !== true) throw new QueueFull("Queue.putNowait(): the queue is full");
  }

  /** Worker threads only: {@link Queue.put}, blocking the thread. */
  putSync(item: T, timeout?: number | null): void {
    checkMayBlock("Queue.putSync()", "queue.put()");
    const deadline = deadlineOf(timeout, "Queue.putSync");
    blockUntil(this._p.w, new PutWait(this._p, this._encode(item, "Queue.putSync")), deadline);
  }

  /** Takes the first item, waiting for one; `QueueEmpty` after `timeout` ms, `QueueShutDown` once shut down and empty. */
  get(options?: WaitOptions): Promise<T> {
    throwAtCall();
    const { signal, deadline } = waitOptions(options, "Queue.get");
    if (signal?.aborted === true) return abortedNow(signal);
    const op = new GetWait(this._p);
    let r: unknown;
    try {
      r = op.attempt();
    } catch (e) {
      return Promise.reject(e as Error);
    }
    if (r !== NOT_YET) return Promise.resolve(r as T);
    return waitAsync(this, this._p.w, op, deadline, signal) as unknown as Promise<T>;
  }

  /** Takes the first item if there is one, else throws `QueueEmpty`. */
  getNowait(): T {
    const r = new GetWait(this._p).attempt();
    if (r === NOT_YET) throw new QueueEmpty("Queue.getNowait(): the queue is empty");
    return r as T;
  }

  /** Worker threads only: {@link Queue.get}, blocking the thread. */
  getSync(timeout?: number | null): T {
    checkMayBlock("Queue.getSync()", "queue.get()");
    const deadline = deadlineOf(timeout, "Queue.getSync");
    return blockUntil(this._p.w, new GetWait(this._p), deadline) as T;
  }

  /** Marks one item taken earlier as processed; `InvalidStateError` if called more times than items were put. */
  taskDone(): void {
    const w = this._p.w;
    for (;;) {
      const n = Atomics.load(w, C);
      if (n <= 0) throw new InvalidStateError("Queue.taskDone(): called more times than there were items");
      if (Atomics.compareExchange(w, C, n, n - 1) === n) break;
    }
    wake(w);
  }

  /** Waits until every item put has been marked done with `taskDone()`. A cancellation point. */
  join(options?: WaitOptions): Promise<void> {
    throwAtCall();
    const { signal, deadline } = waitOptions(options, "Queue.join");
    if (signal?.aborted === true) return abortedNow(signal);
    if (Atomics.load(this._p.w, C) === 0) return RESOLVED;
    return waitAsync(this, this._p.w, new JoinWait(this._p.w), deadline, signal) as unknown as Promise<void>;
  }

  /** Worker threads only: {@link Queue.join}, blocking the thread. */
  joinSync(timeout?: number | null): void {
    checkMayBlock("Queue.joinSync()", "queue.join()");
    blockUntil(this._p.w, new JoinWait(this._p.w), deadlineOf(timeout, "Queue.joinSync"));
  }

  /**
   * Shuts the queue down (Python 3.13): `put` throws `QueueShutDown` from now on; `get` too once
   * the queue is empty. With `immediate`, the items left are dropped (and counted done for `join`).
   */
  shutdown(immediate = false): void {
    const p = this._p;
    const w = p.w;
    lockSpin(w);
    Atomics.store(w, D, immediate ? 2 : 1);
    if (immediate) {
      const n = w[B];
      p.meta[HEAD_] = p.meta[TAIL];
      p.meta[USED] = 0;
      Atomics.store(w, B, 0);
      Atomics.sub(w, C, Math.min(n, Atomics.load(w, C)));
    }
    unlockSpin(w);
    wake(w);
  }

  /** @internal */
  [WIRE](): WireForm {
    return { $tsaioShared: URL_, h: this.handle };
  }

  /** @internal */
  [inspect.custom](): string {
    const w = this._p.w;
    const down = Atomics.load(w, D) !== 0 ? " shut-down" : "";
    return `<threading.Queue${down} size=${this.qsize()}${this.maxsize > 0 ? `/${this.maxsize}` : ""} bytes=${this._p.meta[USED]}/${this._p.bytes.length} unfinished=${Atomics.load(w, C)}>`;
  }
}

const RESOLVED: Promise<void> = Promise.resolve();

registerReviver(URL_, (h) => Queue.from(h as QueueHandle));
