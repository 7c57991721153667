/**
 * `Semaphore` and `BoundedSemaphore` across threads: STATE holds the free permits; waiters queue for
 * tickets (shared.ts), and `release()` hands a permit straight to the first live ticket when there
 * is one (FIFO), else adds it to STATE. Word A holds the bound (0: unbounded), word B the permits
 * held (bounded only: an over-release is caught even while permits are being handed over).
 *
 * Crash recovery needs to know which thread holds which permits: the holders table (shared.ts's
 * TABLE) counts them per thread, `thread << 12 | count`, an entry freed when its count drops to 0.
 * A Semaphore has no owner, though: a thread may release a permit another acquired (signalling).
 * The first release by a thread that holds fewer permits than it releases sets word D, and from then
 * on nothing is counted — a dead thread's permits are then not given back (its waits still are).
 * @module
 */
import { inspect } from "node:util";
import { InvalidStateError } from "../errors.js";
import { checkCount } from "../internal/validate.js";
import { type Held, holdOf, runHolding } from "./lock.js";
import { track } from "./recovery.js";
import {
  A,
  abandon,
  attach,
  B,
  blockUntil,
  checkMayBlock,
  D,
  deadlineOf,
  FULL,
  grant,
  type Handle,
  handleOf,
  HEAD,
  HOLDERS,
  isGranted,
  newWords,
  NOT_YET,
  queued,
  recoverTickets,
  registerReviver,
  STATE,
  TABLE,
  take,
  THREAD,
  wake,
  type WaitOp,
  type WaitOptions,
  waitUnlessReady,
  WIRE,
  type WireForm,
  waitersText,
} from "./shared.js";

const URL_ = import.meta.url;

/** Takes a permit if one is free and nobody queues (or, for the head ticket, regardless of the queue). */
function takePermit(w: Int32Array): boolean {
  for (;;) {
    const v = Atomics.load(w, STATE);
    if (v <= 0) return false;
    if (Atomics.compareExchange(w, STATE, v, v - 1) === v) return true;
  }
}

function gotPermit(w: Int32Array): void {
  if (Atomics.load(w, A) !== 0) Atomics.add(w, B, 1);
  if (Atomics.load(w, D) === 0) countHeld(w);
}

/** This thread's key in the holders table (0: its id is too large to fit, nothing is counted). */
const ME = keyOf(THREAD);
function keyOf(thread: number): number {
  return thread < 1 << 19 ? thread << 12 : 0;
}
const COUNT = 0xfff;

/** One more permit held by this thread, in the holders table (only this thread writes its entry). */
function countHeld(w: Int32Array): void {
  if (ME !== 0) {
    let free = -1;
    for (let i = TABLE; i < TABLE + HOLDERS; i++) {
      const e = Atomics.load(w, i);
      if (e === 0) {
        if (free === -1) free = i;
      } else if ((e & ~COUNT) === ME) {
        if ((e & COUNT) === COUNT) break; // too many to count: stop counting
        Atomics.store(w, i, e + 1);
        return;
      }
    }
    // No entry yet: claim a free one (others claim too: compare-exchange, then look further).
    for (let i = free; i !== -1 && i < TABLE + HOLDERS; i++) {
      if (Atomics.load(w, i) === 0 && Atomics.compareExchange(w, i, 0, ME | 1) === 0) return;
    }
  }
  Atomics.store(w, D, 1); // no room, too many, or no key: stop counting
}

/** `n` permits released by this thread: off its entry, or — not its own — stop counting. */
function uncountHeld(w: Int32Array, n: number): void {
  if (ME !== 0) {
    for (let i = TABLE; i < TABLE + HOLDERS; i++) {
      const e = Atomics.load(w, i);
      if ((e & ~COUNT) !== ME) continue;
      const c = e & COUNT;
      if (c < n) break;
      Atomics.store(w, i, c === n ? 0 : e - n);
      return;
    }
  }
  Atomics.store(w, D, 1);
}

class SemWait implements WaitOp<boolean> {
  t = -1;
  constructor(private readonly w: Int32Array) {}

  attempt(): boolean | typeof NOT_YET {
    const w = this.w;
    let t = this.t;
    if (t === -1 || t === FULL) {
      if (!queued(w) && takePermit(w)) return this._got();
      t = this.t = take(w);
      if (t === FULL) return NOT_YET;
    }
    if (isGranted(w, t)) return this._got();
    if (Atomics.load(w, HEAD) === t && takePermit(w)) {
      // Took one by itself: leave the queue; a permit handed over meanwhile goes back.
      if (abandon(w, t)) releasePermit(w);
      return this._got();
    }
    return NOT_YET;
  }

  private _got(): true {
    gotPermit(this.w);
    return true;
  }

  giveUp(cancelled: boolean): boolean {
    const t = this.t;
    if (t === -1 || t === FULL) return false;
    if (!abandon(this.w, t)) {
      wake(this.w);
      return false;
    }
    if (cancelled) releasePermit(this.w);
    else return this._got();
    return true;
  }

  /** Took a permit, but the task was cancelled before it ran again: the permit goes back (to the next waiter). */
  passOn(r: boolean): void {
    if (!r) return;
    const w = this.w;
    if (Atomics.load(w, A) !== 0) Atomics.sub(w, B, 1);
    if (Atomics.load(w, D) === 0) uncountHeld(w, 1);
    releasePermit(w);
  }
}

const tryAcquire = (s: Semaphore): boolean => s.tryAcquire();
const semWait = (s: Semaphore): SemWait => new SemWait(s._w);

/** One permit back: to the first live waiter, else to the pool of free permits. */
function releasePermit(w: Int32Array): void {
  if (queued(w) && grant(w, 1) === 1) {
    wake(w);
    return;
  }
  Atomics.add(w, STATE, 1);
  // A waiter that queued after our check reads STATE after taking its ticket; one that queued
  // before it is asleep: wake it (both sides write, then read — one of them sees the other).
  if (queued(w)) wake(w);
}

/**
 * A counter of permits shared by threads, Python's `threading.Semaphore` with asyncio's manners:
 * `await acquire()` (FIFO, a cancellation point, never blocks the event loop) from any thread,
 * `acquireSync()` in workers, `release()` from anyone.
 * @example
 * ```ts
 * import { Semaphore } from "tsaio/threading";
 * const sem = new Semaphore(2);
 * await sem.acquire();
 * await sem.acquire();
 * console.log(sem.locked(), await sem.acquire({ timeout: 5 })); // true false
 * sem.release();
 * console.log(sem.value); // 1
 * ```
 */
export class Semaphore {
  /** @internal */ readonly _w: Int32Array;

  constructor(value = 1) {
    checkCount(value, new.target.name, "value", 0);
    if (value > 0x3fffffff) throw new RangeError(`${new.target.name}: \`value\` must be <= ${0x3fffffff}, got ${value}`);
    this._w = newWords();
    this._w[STATE] = value;
    track(this);
  }

  /**
   * Re-attaches to a semaphore made in another thread, from its {@link Semaphore.handle}.
   * @example
   * ```ts
   * import { Semaphore } from "tsaio/threading";
   * console.log(Semaphore.from(new Semaphore(3).handle).value); // 3
   * ```
   */
  static from(handle: Handle): Semaphore {
    const proto = (handle as { kind?: unknown }).kind === "BoundedSemaphore" ? BoundedSemaphore.prototype : Semaphore.prototype;
    return track(attach(proto, handle, ["Semaphore", "BoundedSemaphore"], "Semaphore.from"));
  }

  /** A plain, structured-cloneable description, for {@link Semaphore.from} in another thread. */
  get handle(): Handle {
    return handleOf(Atomics.load(this._w, A) !== 0 ? "BoundedSemaphore" : "Semaphore", this._w);
  }

  /** The free permits now. */
  get value(): number {
    return Atomics.load(this._w, STATE);
  }

  /** Whether `acquire()` would have to wait. */
  locked(): boolean {
    return Atomics.load(this._w, STATE) === 0 || queued(this._w);
  }

  /** Takes a permit if one is free and nobody waits; never waits. */
  tryAcquire(): boolean {
    const w = this._w;
    if (queued(w) || !takePermit(w)) return false;
    gotPermit(w);
    return true;
  }

  /** Waits for a permit (FIFO); `true`, or `false` after `timeout` ms. A cancellation point. */
  acquire(options?: WaitOptions): Promise<boolean> {
    return waitUnlessReady(this, options, `${this.constructor.name}.acquire`, tryAcquire, semWait);
  }

  /** Worker threads only: blocks until a permit is taken (`true`) or `timeout` ms pass (`false`). */
  acquireSync(timeout?: number | null): boolean {
    checkMayBlock(`${this.constructor.name}.acquireSync()`, "semaphore.acquire()");
    if (this.tryAcquire()) return true;
    return blockUntil(this._w, new SemWait(this._w), deadlineOf(timeout, `${this.constructor.name}.acquireSync`));
  }

  /** Gives `n` permits back (to waiters first, in order). */
  release(n = 1): void {
    checkCount(n, `${this.constructor.name}.release`, "n", 1);
    const w = this._w;
    if (Atomics.load(w, A) !== 0) {
      for (;;) {
        const held = Atomics.load(w, B);
        if (held < n) throw new InvalidStateError(`${this.constructor.name}.release(): released too many times (the value would exceed its initial ${Atomics.load(w, A)})`);
        if (Atomics.compareExchange(w, B, held, held - n) === held) break;
      }
    }
    if (Atomics.load(w, D) === 0) uncountHeld(w, n);
    for (let i = 0; i < n; i++) releasePermit(w);
  }

  /**
   * @internal Crash recovery (see shared.ts): dead thread `dead`'s tickets are given up (a permit
   * handed to it goes on), and the permits it held are released, unless holders are not counted.
   */
  _recover(dead: number): boolean {
    const w = this._w;
    const found = recoverTickets(w, dead, () => releasePermit(w));
    const key = keyOf(dead);
    let held = 0;
    for (let i = TABLE; key !== 0 && i < TABLE + HOLDERS; i++) {
      const e = Atomics.load(w, i);
      if ((e & ~COUNT) === key && Atomics.compareExchange(w, i, e, 0) === e) {
        held = e & COUNT;
        break;
      }
    }
    if (held === 0 || Atomics.load(w, D) !== 0) return found > 0;
    if (Atomics.load(w, A) !== 0) Atomics.sub(w, B, held);
    for (let i = 0; i < held; i++) releasePermit(w);
    return true;
  }

  /** Runs `fn` holding a permit, and releases it however `fn` ends. */
  run<R>(fn: () => R | PromiseLike<R>, options?: { signal?: AbortSignal }): Promise<Awaited<R>> {
    return runHolding(this, fn, options);
  }

  /** Acquires and returns a {@link Held} (`await using _ = await sem.hold()`). */
  hold(options?: { signal?: AbortSignal }): Promise<Held> {
    return holdOf(this, options);
  }

  /** @internal */
  [WIRE](): WireForm {
    return { $tsaioShared: URL_, h: this.handle };
  }

  /** @internal */
  [inspect.custom](): string {
    return `<threading.${this.constructor.name} value=${this.value}${waitersText(this._w)}>`;
  }
}

/**
 * A {@link Semaphore} that refuses to be released more times than it was acquired, Python's
 * `threading.BoundedSemaphore`: the extra `release()` throws `InvalidStateError` (Python's `ValueError`).
 * @example
 * ```ts
 * import { BoundedSemaphore } from "tsaio/threading";
 * const sem = new BoundedSemaphore(1);
 * try { sem.release(); } catch (e) { console.log((e as Error).name); } // InvalidStateError
 * ```
 */
export class BoundedSemaphore extends Semaphore {
  constructor(value = 1) {
    super(value);
    if (value === 0) throw new RangeError("BoundedSemaphore: `value` must be >= 1, got 0");
    this._w[A] = value;
  }
}

registerReviver(URL_, (h) => Semaphore.from(h));
