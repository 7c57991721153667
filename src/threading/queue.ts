/**
 * `Queue` across threads: a bounded multi-producer multi-consumer FIFO of structured-cloned items,
 * held in a byte ring on a SharedArrayBuffer.
 *
 * Each item is encoded at `put` (codec.ts: a fast form for plain data, else `v8.serialize`, with
 * structured-clone semantics either way) into this thread's scratch buffer — so an item that cannot
 * be cloned fails the `put`, not the consumer — and copied into the ring as a record
 * `[u32 length][bytes]` (in two parts where it wraps). A `get` copies the record out to a scratch
 * buffer and decodes it after letting the ring go. A short spin lock (ctl LOCK) guards the ring's
 * head, tail and counts for the few instructions of a copy; nobody waits while holding it.
 *
 * ## Memory (Int32 words from the handle's offset)
 * | block | words | use |
 * | --- | --- | --- |
 * | get | shared.ts's WORDS | getters: SEQ/SLEEPERS (wake-ups), NEXT/HEAD/ring (async getters' tickets) |
 * | put | WORDS | putters: the same |
 * | ctl | 16 | LOCK, the join waiters' SEQ/SLEEPERS, counts, ring positions, maxsize, waiter counts |
 * | bytes | bufferSize / 4 | the ring |
 *
 * ## Wake-ups cost nothing when nobody waits
 * A getter about to sleep counts itself in GWAIT, then fails one more attempt, which sets GSIG
 * under the lock; a put, under the same lock, clears GSIG and bumps the getters' SEQ (notifying
 * sleepers) only if both are set. Either the put came before that last attempt (which then saw the
 * item), or it sees the flag: no lost wake-up — and one wake per failed look, not one per item put
 * while the sleeper is still waking up. Putters waiting for room: the same with PWAIT/PSIG.
 * Blocking waits spin first, watching the count, uncounted: so one thread moving items to another
 * that keeps up pays one lock and one copy per item, and no `Atomics.notify` (a global mutex in V8).
 *
 * ## Order
 * The ring is FIFO. Async waiters (`await get()`/`await put()`) are FIFO among themselves, as in
 * asyncio: one that cannot go on at once takes a ticket (the get or put block's ticket queue), and
 * only the ticket at the head may take an item (or room); it then leaves the queue and wakes the
 * others, so the next one becomes head. A call arriving while nobody is queued may take an item
 * first (as a new `get()` may in asyncio). Blocking waits (`getSync`/`putSync`) follow `threading`:
 * no order among them; they take whatever is there, whenever they look.
 * @module
 */
import { inspect } from "node:util";
import { InvalidStateError, QueueEmpty, QueueFull, QueueShutDown } from "../errors.js";
import { describe } from "../internal/validate.js";
import { decodeBuffer, decodeScratch, encodeScratch, scratch } from "./codec.js";
import { track } from "./recovery.js";
import {
  abandon,
  abortedNow,
  blockUntil,
  checkHandle,
  checkMayBlock,
  deadlineOf,
  FULL,
  type Handle,
  HEAD,
  NOT_YET,
  queued,
  queueLength,
  recoverTickets,
  registerReviver,
  SEQ,
  SLEEPERS,
  take,
  THREAD,
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
const DEFAULT_BYTES = 1 << 20;

// ctl words. JSEQ and JSLEEP sit where shared.ts's SEQ and SLEEPERS are, so that `wake(ctl)` and
// the wait drivers on ctl serve `join()`.
const LOCK = 0;
const JSEQ = 1;
const COUNT = 2;
const UNFIN = 3;
const DOWN = 4;
const RHEAD = 5;
const RTAIL = 6;
const USED = 7;
const JSLEEP = 8;
const MAX = 9;
const GWAIT = 10;
const PWAIT = 11;
/** Set (under the lock) by a counted getter whose attempt failed; the next put clears it and wakes the getters: one wake per failed look, not one per item. */
const GSIG = 12;
const PSIG = 13;
const CTL = 16;
if (JSEQ !== SEQ || JSLEEP !== SLEEPERS) throw new Error("tsaio/threading Queue: shared.ts's word layout changed");
// Module-local copies: a hot loop reads these, not the imported bindings.
const HEAD_ = HEAD;
const WORDS_ = WORDS;
const FULL_ = FULL;
/** The lock word names its holder (crash recovery frees the lock of a dead thread). */
const ME = THREAD;
const SEQ_ = SEQ;
const SLEEPERS_ = SLEEPERS;

/** The handle of a {@link Queue}. */
export interface QueueHandle extends Handle {
  readonly bufferSize: number;
}

interface Parts {
  /** Getters: wake-ups and the async getters' ticket queue. */
  g: Int32Array;
  /** Putters: the same. */
  p: Int32Array;
  c: Int32Array;
  ring: Uint8Array;
  size: number;
}

/** {@link deadlineOf}'s checks without reading the clock (a blocking get or put reads it only if it has to wait). */
function checkTimeout(timeout: unknown, what: string): asserts timeout is number | null | undefined {
  if (timeout === undefined || timeout === null || (typeof timeout === "number" && timeout >= 0)) return;
  deadlineOf(timeout, what); // throws the TypeError or RangeError
}

const bytesFor = (size: number): number => (2 * WORDS_ + CTL) * 4 + size;

function partsOf(sab: SharedArrayBuffer, offset: number, size: number): Parts {
  return {
    g: new Int32Array(sab, offset, WORDS_),
    p: new Int32Array(sab, offset + WORDS_ * 4, WORDS_),
    c: new Int32Array(sab, offset + 2 * WORDS_ * 4, CTL),
    ring: new Uint8Array(sab, offset + (2 * WORDS_ + CTL) * 4, size),
    size,
  };
}

/**
 * The ring's spin lock: held for a copy of a record, never across a wait. Plain reads and writes of
 * the ring and of COUNT/UNFIN/USED/RHEAD/RTAIL happen under it (its compare-exchange and store order
 * them); outside it, COUNT, UNFIN and USED are only read, as hints (spinners) or snapshots (qsize).
 * If the holder's thread is descheduled mid-copy (a shared machine), waiting a little beats spinning
 * through the rest of a time slice.
 */
function lockSpin(c: Int32Array): void {
  if (Atomics.compareExchange(c, LOCK, 0, ME) === 0) return;
  for (let i = 1; ; i++) {
    const holder = Atomics.compareExchange(c, LOCK, 0, ME);
    if (holder === 0) return;
    if (i % 1024 === 0) Atomics.wait(c, LOCK, holder, 0.05);
  }
}
function unlockSpin(c: Int32Array): void {
  Atomics.store(c, LOCK, 0);
}

/** Copies `src[0, n)` into the ring at `at` (wrapping); returns the position after it. Byte loops: `set` on a shared target costs more than a small record. */
function writeRing(ring: Uint8Array, size: number, at: number, src: Uint8Array, n: number): number {
  const first = Math.min(n, size - at);
  if (n > 64) {
    ring.set(src.subarray(0, first), at);
    if (first < n) ring.set(src.subarray(first, n), 0);
  } else {
    for (let i = 0; i < first; i++) ring[at + i] = src[i];
    for (let i = first; i < n; i++) ring[i - first] = src[i];
  }
  const end = at + n;
  return end >= size ? end - size : end;
}

function readRing(ring: Uint8Array, size: number, at: number, n: number, into: Uint8Array): number {
  const first = Math.min(n, size - at);
  if (n > 64) {
    into.set(ring.subarray(at, at + first), 0);
    if (first < n) into.set(ring.subarray(0, n - first), first);
  } else {
    for (let i = 0; i < first; i++) into[i] = ring[at + i];
    for (let i = first; i < n; i++) into[i] = ring[i - first];
  }
  const end = at + n;
  return end >= size ? end - size : end;
}

function byteAt(ring: Uint8Array, size: number, at: number): number {
  return ring[at >= size ? at - size : at];
}

// Results of the locked steps (besides a byte count for a record taken).
const EMPTY = -1;
const NO_ROOM = -1;
const SHUT = -2;

/**
 * Under the lock: takes the first record into the decode scratch and returns its length, or
 * EMPTY/SHUT. `reg` says what the caller is: 0 not a counted waiter; 1 a waiter to count in GWAIT
 * if this attempt fails; 2 counted here earlier (uncounted if it succeeds); 3 counted by the caller.
 * A failing attempt of a counted waiter sets GSIG, so that the next put wakes the getters. Wakes
 * the putters if one is counted and signalled.
 */
function takeRecord(q: Parts, reg: number): number {
  const c = q.c;
  lockSpin(c);
  const count = c[COUNT];
  if (count === 0) {
    if (reg !== 0) {
      if (reg === 1) Atomics.add(c, GWAIT, 1);
      c[GSIG] = 1;
    }
    const down = c[DOWN];
    unlockSpin(c);
    return down !== 0 ? SHUT : EMPTY;
  }
  const ring = q.ring;
  const size = q.size;
  let at = c[RHEAD];
  const n = byteAt(ring, size, at) | (byteAt(ring, size, at + 1) << 8) | (byteAt(ring, size, at + 2) << 16) | (byteAt(ring, size, at + 3) << 24);
  at += 4;
  if (at >= size) at -= size;
  c[RHEAD] = readRing(ring, size, at, n, decodeBuffer(n));
  c[USED] -= n + 4;
  c[COUNT] = count - 1;
  if (reg === 2) Atomics.sub(c, GWAIT, 1);
  const wakePut = c[PSIG] !== 0 && Atomics.load(c, PWAIT) !== 0;
  if (wakePut) c[PSIG] = 0;
  unlockSpin(c);
  if (wakePut) wake(q.p);
  return n;
}

/**
 * Under the lock: appends the `n` bytes of `data` as a record; returns n, NO_ROOM or SHUT. `reg` as
 * in {@link takeRecord}, with PWAIT and PSIG. Wakes the getters if one is counted and signalled.
 */
function putRecord(q: Parts, data: Uint8Array, n: number, reg: number): number {
  const c = q.c;
  const size = q.size;
  lockSpin(c);
  if (c[DOWN] !== 0) {
    if (reg === 2) Atomics.sub(c, PWAIT, 1);
    unlockSpin(c);
    return SHUT;
  }
  const count = c[COUNT];
  const max = c[MAX];
  if ((max > 0 && count >= max) || size - c[USED] < n + 4) {
    if (reg !== 0) {
      if (reg === 1) Atomics.add(c, PWAIT, 1);
      c[PSIG] = 1;
    }
    unlockSpin(c);
    return NO_ROOM;
  }
  const ring = q.ring;
  let at = c[RTAIL];
  ring[at] = n;
  ring[at + 1 >= size ? at + 1 - size : at + 1] = n >>> 8;
  ring[at + 2 >= size ? at + 2 - size : at + 2] = n >>> 16;
  ring[at + 3 >= size ? at + 3 - size : at + 3] = n >>> 24;
  at += 4;
  if (at >= size) at -= size;
  c[RTAIL] = writeRing(ring, size, at, data, n);
  c[USED] += n + 4;
  c[UNFIN]++;
  c[COUNT] = count + 1;
  if (reg === 2) Atomics.sub(c, PWAIT, 1);
  const wakeGet = c[GSIG] !== 0 && Atomics.load(c, GWAIT) !== 0;
  if (wakeGet) c[GSIG] = 0;
  unlockSpin(c);
  if (wakeGet) wake(q.g);
  return n;
}

/** {@link readyToGet}/{@link readyToPut}: there is an item (room) now. */
const READY = 0;

/**
 * Under the lock, for an async getter: READY if an item is there (not taken: the getter takes it
 * when its task runs again, see {@link Queue.get}), else EMPTY or SHUT, counting and signalling
 * the waiter as {@link takeRecord} does.
 */
function readyToGet(q: Parts, reg: number): number {
  const c = q.c;
  lockSpin(c);
  if (c[COUNT] !== 0) {
    unlockSpin(c);
    return READY;
  }
  if (reg === 1) Atomics.add(c, GWAIT, 1);
  c[GSIG] = 1;
  const down = c[DOWN];
  unlockSpin(c);
  return down !== 0 ? SHUT : EMPTY;
}

/** {@link readyToGet} for an async putter of `n` bytes: READY if there is room, else NO_ROOM or SHUT. */
function readyToPut(q: Parts, n: number, reg: number): number {
  const c = q.c;
  lockSpin(c);
  const down = c[DOWN];
  const max = c[MAX];
  if (down === 0 && (max === 0 || c[COUNT] < max) && q.size - c[USED] >= n + 4) {
    unlockSpin(c);
    return READY;
  }
  if (down === 0) {
    if (reg === 1) Atomics.add(c, PWAIT, 1);
    c[PSIG] = 1;
  }
  unlockSpin(c);
  return down !== 0 ? SHUT : NO_ROOM;
}

/**
 * The ticket part of an async wait (FIFO among async waiters) on block `w` (the get or put block):
 * `has`: holds ticket `t`; `full`: the ticket ring was full, so this waiter competes unqueued.
 */
class Ticketed {
  t = 0;
  has = false;
  full = false;
  /** 0: a sync wait or a first attempt (not counted in GWAIT/PWAIT), 1: counting on failure, 2: counted. */
  reg = 0;
  constructor(
    readonly q: Parts,
    readonly w: Int32Array,
    readonly fifo: boolean,
  ) {}

  /** Whether this waiter may try now: no ticket needed, or its ticket is the head. Takes a ticket when others queue. */
  mayTry(): boolean {
    if (!this.fifo || this.full) return true;
    if (!this.has) {
      if (!queued(this.w)) return true;
      this.queue();
      if (!this.has) return true;
    }
    return Atomics.load(this.w, HEAD_) === this.t;
  }

  queue(): void {
    const t = take(this.w);
    if (t === FULL_) this.full = true;
    else {
      this.t = t;
      this.has = true;
    }
  }

  /** Leaves the ticket queue (served, gave up, or failed) and lets the next waiter look. */
  leave(): void {
    if (!this.has) return;
    this.has = false;
    abandon(this.w, this.t); // never granted (nobody grants here): it only moves HEAD on
    if (queued(this.w)) wake(this.w);
  }

  /** Ends the wait however it ends (idempotent): uncounted from `word` (GWAIT/PWAIT), out of the ticket queue. */
  end(word: number): void {
    this.uncount(word);
    this.leave();
  }

  /** Stops counting in GWAIT/PWAIT (a wait that ends other than by a successful attempt). */
  uncount(word: number): void {
    if (this.reg === 2) {
      Atomics.sub(this.q.c, word, 1);
      this.reg = 0;
    }
  }
}

/**
 * An async get's wait. Its attempt only looks (an item there, and its turn): the item is taken by
 * {@link GetWait.take} when the waiting task runs again, as CPython's `await getter` then
 * `get_nowait()` — so a task cancelled after the wake-up, before it resumes, takes nothing and no
 * item is lost. If another thread took the item meanwhile, it waits again, keeping its ticket.
 */
class GetWait extends Ticketed implements WaitOp<true> {
  attempt(): true | typeof NOT_YET {
    if (!this.mayTry()) {
      // Not our turn; the head leaving wakes us. After shutdown, no turn comes: fall through.
      if (Atomics.load(this.q.c, DOWN) === 0) return NOT_YET;
    }
    if (this.reg === 0) this.reg = 1;
    const r = readyToGet(this.q, this.reg);
    if (r === READY) return true;
    if (this.reg === 1) this.reg = 2;
    if (r === SHUT) {
      this.end(GWAIT);
      throw new QueueShutDown("Queue.get(): the queue is shut down and empty");
    }
    if (this.fifo && !this.has && !this.full) this.queue();
    return NOT_YET;
  }

  /** After the wake-up: the record's length (decode it now), or EMPTY (taken by someone else: wait again). */
  take(): number {
    const counted = this.reg === 2;
    const n = takeRecord(this.q, counted ? 2 : 0);
    if (n >= 0) {
      this.reg = 0;
      this.leave();
      return n;
    }
    if (n === SHUT) {
      this.end(GWAIT);
      throw new QueueShutDown("Queue.get(): the queue is shut down and empty");
    }
    return EMPTY;
  }

  giveUp(cancelled: boolean): true {
    this.end(GWAIT);
    if (cancelled) return true;
    throw new QueueEmpty("Queue.get(): no item within the timeout");
  }
}

/** An async put's wait: it looks for room; {@link PutWait.put} puts when the task runs again (see {@link GetWait}). */
class PutWait extends Ticketed implements WaitOp<true> {
  constructor(
    q: Parts,
    private readonly _data: Uint8Array,
    private readonly _n: number,
  ) {
    super(q, q.p, true);
  }

  attempt(): true | typeof NOT_YET {
    if (!this.mayTry() && Atomics.load(this.q.c, DOWN) === 0) return NOT_YET;
    if (this.reg === 0) this.reg = 1;
    const r = readyToPut(this.q, this._n, this.reg);
    if (r === READY) return true;
    if (r === SHUT) {
      this.end(PWAIT);
      throw new QueueShutDown("Queue.put(): the queue is shut down");
    }
    if (this.reg === 1) this.reg = 2;
    if (!this.has && !this.full) this.queue();
    return NOT_YET;
  }

  /** After the wake-up: whether it put the item (false: someone else took the room, wait again). */
  put(): boolean {
    const r = putRecord(this.q, this._data, this._n, this.reg === 2 ? 2 : 0);
    if (r >= 0) {
      this.reg = 0;
      this.leave();
      return true;
    }
    if (r === SHUT) {
      if (this.reg === 2) this.reg = 0; // putRecord uncounted it
      this.leave();
      throw new QueueShutDown("Queue.put(): the queue is shut down");
    }
    return false;
  }

  giveUp(cancelled: boolean): true {
    this.end(PWAIT);
    if (cancelled) return true;
    throw new QueueFull("Queue.put(): no room within the timeout");
  }
}

/** Spin iterations of a blocking wait before it sleeps (each one load of a word the other side writes, then a short pause). */
const SPIN = 400;

/** A few µs of nothing: spinners read the shared words less often, so the side doing the work keeps its cache line. */
function pause(): number {
  let x = 0;
  for (let i = 0; i < 16; i++) x += i;
  return x;
}

/** The deadline (performance.now() ms) of a blocking wait, read only once it has to wait. */
const deadlineAfter = (timeout: number | null | undefined): number => (timeout === undefined || timeout === null || timeout === Infinity ? Infinity : performance.now() + timeout);

/**
 * Blocks this (worker) thread until a record is taken (its length), the queue is shut down and
 * empty (SHUT) or `timeout` ms pass (EMPTY). It spins first, watching COUNT — a spinner is not
 * counted in GWAIT, so putters pay nothing for it — and only then counts itself, looks once more
 * (setting GSIG under the lock), and sleeps on the getters' SEQ, which the next put bumps.
 */
function blockGet(q: Parts, timeout: number | null | undefined): number {
  const { c, g } = q;
  let deadline = NaN;
  for (;;) {
    let n = takeRecord(q, 0);
    if (n !== EMPTY) return n;
    for (let i = 0; i < SPIN && Atomics.load(c, COUNT) === 0 && Atomics.load(c, DOWN) === 0; i++) pause();
    n = takeRecord(q, 0);
    if (n !== EMPTY) return n;
    if (deadline !== deadline) deadline = deadlineAfter(timeout);
    Atomics.add(c, GWAIT, 1);
    const s = Atomics.load(g, SEQ_);
    n = takeRecord(q, 3);
    const rest = deadline === Infinity ? Infinity : deadline - performance.now();
    if (n === EMPTY && rest > 0) {
      Atomics.add(g, SLEEPERS_, 1);
      Atomics.wait(g, SEQ_, s, rest);
      Atomics.sub(g, SLEEPERS_, 1);
    }
    Atomics.sub(c, GWAIT, 1);
    if (n !== EMPTY || rest <= 0) return n;
  }
}

/**
 * {@link blockGet} for a put of `data[0, n)`: n once put, SHUT, or NO_ROOM after `timeout` ms. Its
 * spin waits for room for an eighth of the queue (a hint only: an exact attempt follows the spin),
 * so that a producer ahead of its consumer puts in bursts instead of one item per item taken.
 */
function blockPut(q: Parts, data: Uint8Array, n: number, timeout: number | null | undefined): number {
  const { c, p, size } = q;
  const max = c[MAX];
  const below = max - (max >> 3);
  const need = Math.min(n + 4 + (size >> 3), size);
  let deadline = NaN;
  for (;;) {
    let r = putRecord(q, data, n, 0);
    if (r !== NO_ROOM) return r;
    for (let i = 0; i < SPIN && Atomics.load(c, DOWN) === 0; i++) {
      // USED is written under the lock without Atomics: a torn or stale read only ends the spin early or late.
      if ((max === 0 || Atomics.load(c, COUNT) <= below) && size - Atomics.load(c, USED) >= need) break;
      pause();
    }
    r = putRecord(q, data, n, 0);
    if (r !== NO_ROOM) return r;
    if (deadline !== deadline) deadline = deadlineAfter(timeout);
    Atomics.add(c, PWAIT, 1);
    const s = Atomics.load(p, SEQ_);
    r = putRecord(q, data, n, 3);
    const rest = deadline === Infinity ? Infinity : deadline - performance.now();
    if (r === NO_ROOM && rest > 0) {
      Atomics.add(p, SLEEPERS_, 1);
      Atomics.wait(p, SEQ_, s, rest);
      Atomics.sub(p, SLEEPERS_, 1);
    }
    Atomics.sub(c, PWAIT, 1);
    if (r !== NO_ROOM || rest <= 0) return r;
  }
}

class JoinWait implements WaitOp<true> {
  constructor(private readonly _c: Int32Array) {}
  attempt(): true | typeof NOT_YET {
    return Atomics.load(this._c, UNFIN) === 0 ? true : NOT_YET;
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
 *
 * Async waiters are served in FIFO order among themselves (as in asyncio); blocking waiters
 * (`getSync`/`putSync`) follow `threading`: no order.
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
    if (!Number.isInteger(maxsize) || maxsize < 0 || maxsize > 0x7fffffff) throw new (typeof maxsize === "number" ? RangeError : TypeError)(`Queue: \`maxsize\` must be an integer >= 0, got ${describe(maxsize)}`);
    const size = options?.bufferSize ?? DEFAULT_BYTES;
    if (!Number.isInteger(size) || size < 16 || size > 0x7fffffff) throw new (typeof size === "number" ? RangeError : TypeError)(`Queue: \`bufferSize\` must be an integer >= 16 (bytes), got ${describe(size)}`);
    this._p = partsOf(new SharedArrayBuffer(bytesFor(size)), 0, size);
    this._p.c[MAX] = maxsize;
    track(this);
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
    const size = handle.bufferSize;
    if (!Number.isInteger(handle.offset) || !Number.isInteger(size) || size < 16 || handle.offset + bytesFor(size) > handle.sab.byteLength) {
      throw new TypeError(`Queue.from: \`handle\` must be the \`handle\` of a Queue, got ${describe(handle)}`);
    }
    const q = Object.create(Queue.prototype) as { _p: Parts };
    q._p = partsOf(handle.sab, handle.offset, size);
    return track(q as unknown as Queue<T>);
  }

  /** A plain, structured-cloneable description, for {@link Queue.from} in another thread. */
  get handle(): QueueHandle {
    const g = this._p.g;
    return { kind: "Queue", sab: g.buffer as unknown as SharedArrayBuffer, offset: g.byteOffset, bufferSize: this._p.size };
  }

  /** The item limit (0: none). */
  get maxsize(): number {
    return this._p.c[MAX];
  }

  /** Items in the queue now. */
  qsize(): number {
    return Atomics.load(this._p.c, COUNT);
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

  /** @internal Encodes `item` into the scratch buffer; checks its size. */
  private _encode(item: T, what: string): number {
    const n = encodeScratch(item); // throws DataCloneError for what cannot be cloned: the put fails
    if (n + 4 > this._p.size) {
      throw new RangeError(`${what}: the item takes ${n} bytes serialized, more than the queue's buffer holds (${this._p.size - 4}); make the queue with a larger \`bufferSize\``);
    }
    return n;
  }

  /** Puts `item`, waiting for room; `QueueFull` after `timeout` ms, `QueueShutDown` once shut down. A cancellation point. */
  put(item: T, options?: WaitOptions): Promise<void> {
    throwAtCall();
    const { signal, deadline } = waitOptions(options, "Queue.put");
    if (signal?.aborted === true) return abortedNow(signal);
    const n = this._encode(item, "Queue.put");
    const q = this._p;
    // Nobody queued: one try with the scratch bytes, no copy.
    if (!queued(q.p)) {
      const r = putRecord(q, scratch(), n, 0);
      if (r >= 0) return RESOLVED;
      if (r === SHUT) return Promise.reject(new QueueShutDown("Queue.put(): the queue is shut down"));
    }
    // A wait: its own copy of the bytes (the scratch serves the next put of this thread).
    return this._putSlow(new PutWait(q, new Uint8Array(scratch().subarray(0, n)), n), deadline, signal);
  }

  /** @internal Waits for room, then puts when this task runs again (CPython: `await putter`, then `put_nowait()`). */
  private async _putSlow(op: PutWait, deadline: number, signal: AbortSignal | undefined): Promise<void> {
    try {
      do await waitAsync(this, op.w, op, deadline, signal);
      while (!op.put());
    } catch (e) {
      op.end(PWAIT); // cancelled (before or after the wake-up), timed out or shut down: nothing was put
      throw e;
    }
  }

  /** Puts `item` if there is room now, else throws `QueueFull` (`QueueShutDown` once shut down). */
  putNowait(item: T): void {
    const n = this._encode(item, "Queue.putNowait");
    const r = putRecord(this._p, scratch(), n, 0);
    if (r === SHUT) throw new QueueShutDown("Queue.putNowait(): the queue is shut down");
    if (r < 0) throw new QueueFull("Queue.putNowait(): the queue is full");
  }

  /** Worker threads only: {@link Queue.put}, blocking the thread (no order among blocked putters). */
  putSync(item: T, timeout?: number | null): void {
    checkMayBlock("Queue.putSync()", "queue.put()");
    checkTimeout(timeout, "Queue.putSync");
    const n = this._encode(item, "Queue.putSync");
    // Nothing else runs in this thread while it blocks: the scratch bytes stay as they are.
    const r = blockPut(this._p, scratch(), n, timeout);
    if (r === SHUT) throw new QueueShutDown("Queue.putSync(): the queue is shut down");
    if (r < 0) throw new QueueFull("Queue.putSync(): no room within the timeout");
  }

  /** Takes the first item, waiting for one; `QueueEmpty` after `timeout` ms, `QueueShutDown` once shut down and empty. A cancellation point. */
  get(options?: WaitOptions): Promise<T> {
    throwAtCall();
    const { signal, deadline } = waitOptions(options, "Queue.get");
    if (signal?.aborted === true) return abortedNow(signal);
    const q = this._p;
    if (!queued(q.g)) {
      const n = takeRecord(q, 0);
      if (n >= 0) return Promise.resolve(decodeScratch(n) as T);
      if (n === SHUT) return Promise.reject(new QueueShutDown("Queue.get(): the queue is shut down and empty"));
    }
    return this._getSlow(new GetWait(q, q.g, true), deadline, signal);
  }

  /** @internal Waits for an item, then takes it when this task runs again (CPython: `await getter`, then `get_nowait()`). */
  private async _getSlow(op: GetWait, deadline: number, signal: AbortSignal | undefined): Promise<T> {
    try {
      for (;;) {
        await waitAsync(this, op.w, op, deadline, signal);
        const n = op.take();
        if (n >= 0) return decodeScratch(n) as T;
      }
    } catch (e) {
      op.end(GWAIT); // cancelled (before or after the wake-up), timed out or shut down: nothing was taken
      throw e;
    }
  }

  /** Takes the first item if there is one, else throws `QueueEmpty` (`QueueShutDown` once shut down and empty). */
  getNowait(): T {
    const n = takeRecord(this._p, 0);
    if (n === SHUT) throw new QueueShutDown("Queue.getNowait(): the queue is shut down and empty");
    if (n < 0) throw new QueueEmpty("Queue.getNowait(): the queue is empty");
    return decodeScratch(n) as T;
  }

  /** Worker threads only: {@link Queue.get}, blocking the thread (no order among blocked getters). */
  getSync(timeout?: number | null): T {
    checkMayBlock("Queue.getSync()", "queue.get()");
    checkTimeout(timeout, "Queue.getSync");
    const n = blockGet(this._p, timeout);
    if (n === SHUT) throw new QueueShutDown("Queue.getSync(): the queue is shut down and empty");
    if (n < 0) throw new QueueEmpty("Queue.getSync(): no item within the timeout");
    return decodeScratch(n) as T;
  }

  /** Marks one item taken earlier as processed; `InvalidStateError` if called more times than items were put. */
  taskDone(): void {
    const c = this._p.c;
    lockSpin(c);
    const n = c[UNFIN];
    if (n > 0) c[UNFIN] = n - 1;
    unlockSpin(c);
    if (n <= 0) throw new InvalidStateError("Queue.taskDone(): called more times than there were items");
    if (n === 1) wake(c); // joiners wait for 0 only
  }

  /** Waits until every item put has been marked done with `taskDone()`. A cancellation point. */
  join(options?: WaitOptions): Promise<void> {
    throwAtCall();
    const { signal, deadline } = waitOptions(options, "Queue.join");
    if (signal?.aborted === true) return abortedNow(signal);
    const c = this._p.c;
    if (Atomics.load(c, UNFIN) === 0) return RESOLVED;
    return waitAsync(this, c, new JoinWait(c), deadline, signal) as unknown as Promise<void>;
  }

  /** Worker threads only: {@link Queue.join}, blocking the thread. */
  joinSync(timeout?: number | null): void {
    checkMayBlock("Queue.joinSync()", "queue.join()");
    const c = this._p.c;
    blockUntil(c, new JoinWait(c), deadlineOf(timeout, "Queue.joinSync"));
  }

  /**
   * Shuts the queue down (Python 3.13): `put` throws `QueueShutDown` from now on; `get` too once
   * the queue is empty. With `immediate`, the items left are dropped (and counted done for `join`).
   */
  shutdown(immediate = false): void {
    const q = this._p;
    const c = q.c;
    lockSpin(c);
    Atomics.store(c, DOWN, immediate ? 2 : 1);
    if (immediate) {
      c[UNFIN] -= Math.min(c[COUNT], c[UNFIN]);
      c[RHEAD] = c[RTAIL];
      c[USED] = 0;
      c[COUNT] = 0;
    }
    unlockSpin(c);
    wake(q.g);
    wake(q.p);
    wake(c);
  }

  /** @internal The getters' words: what crash recovery wakes (it wakes the rest in {@link Queue._recover}). */
  get _w(): Int32Array {
    return this._p.g;
  }

  /**
   * @internal Crash recovery (see shared.ts): dead thread `dead`'s async waits leave the ticket
   * queues (so those behind them get their turn), and the ring's lock is freed if it died holding
   * it. That is safe: a thread is stopped only where V8 checks for termination (function entries,
   * loop back-edges) — inside the lock, during a copy (the record is not yet published, or not yet
   * taken) or after the last of the ring's words is written, never between those writes. A dead
   * blocked waiter may stay counted in GWAIT/PWAIT: that only costs a wake-up now and then.
   */
  _recover(dead: number): boolean {
    const { g, p, c } = this._p;
    let did = recoverTickets(g, dead, noop) + recoverTickets(p, dead, noop) > 0;
    if (Atomics.compareExchange(c, LOCK, dead, 0) === dead) did = true;
    wake(p);
    wake(c);
    return did;
  }

  /** @internal */
  [WIRE](): WireForm {
    return { $tsaioShared: URL_, h: this.handle };
  }

  /** @internal */
  [inspect.custom](): string {
    const { c, g, p, size } = this._p;
    const down = Atomics.load(c, DOWN) !== 0 ? " shut-down" : "";
    const waiting = (w: Int32Array, what: string): string => (queueLength(w) > 0 ? ` ${what}=${queueLength(w)}` : "");
    return `<threading.Queue${down} size=${this.qsize()}${this.maxsize > 0 ? `/${this.maxsize}` : ""} bytes=${Atomics.load(c, USED)}/${size} unfinished=${Atomics.load(c, UNFIN)}${waiting(g, "getters")}${waiting(p, "putters")}>`;
  }
}

const RESOLVED: Promise<void> = Promise.resolve();
function noop(): void {}

registerReviver(URL_, (h) => Queue.from(h as QueueHandle));
