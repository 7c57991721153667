/**
 * `Lock` and `RLock` across threads.
 *
 * The lock word (STATE) is 0 when free, else `holder << 1 | waiting`: the holder's THREAD (thread
 * id + 1; 0 while a hand-over is not yet taken up) and a bit "maybe waiters" — the classic futex
 * mutex, with the holder named for crash recovery — so the uncontended `acquireSync()`/`release()`
 * pair is two compare-exchanges and nothing else. A waiter sets the waiting bit before it sleeps,
 * which sends the holder's `release()` down the slow path: hand the lock to the first live ticket
 * (the word becomes 1: held, holder not yet known; the grantee writes its own), or, with nobody
 * queued, free it and wake the sleepers.
 * @module
 */
import { inspect } from "node:util";
import { InvalidStateError } from "../errors.js";
import { track } from "./recovery.js";
import {
  A,
  abandon,
  attach,
  B,
  blockUntil,
  C,
  checkMayBlock,
  deadlineOf,
  FULL,
  grant,
  type Handle,
  handleOf,
  HEAD,
  isGranted,
  isMainThread,
  newWords,
  NOT_YET,
  queued,
  registerReviver,
  SEQ,
  SLEEPERS,
  RESOLVED_TRUE,
  recoverTickets,
  STATE,
  taskKey,
  take,
  THREAD,
  throwAtCall,
  wake,
  type WaitOp,
  type WaitOptions,
  waitUnlessReady,
  WIRE,
  type WireForm,
  waitersText,
} from "./shared.js";

const URL_ = import.meta.url;
/** This thread's lock word when it holds the lock (no waiting bit). */
const MINE = THREAD << 1;

/** One `acquire` that had to wait: its ticket and the attempts of both wait drivers. */
class LockWait implements WaitOp<boolean> {
  t = -1;
  constructor(protected readonly w: Int32Array) {}

  attempt(): boolean | typeof NOT_YET {
    const w = this.w;
    for (;;) {
      let t = this.t;
      if (t === -1 || t === FULL) {
        if (Atomics.compareExchange(w, STATE, 0, MINE) === 0) return true;
        t = this.t = take(w);
        if (t === FULL) {
          // No room in the queue: make sure the holder's release wakes us, then wait for room.
          markWaiting(w);
          return NOT_YET;
        }
      }
      if (isGranted(w, t)) {
        Atomics.store(w, STATE, MINE | 1); // handed over by release(): name ourselves the holder
        return true;
      }
      const s = Atomics.load(w, STATE);
      if (s === 0) {
        if (Atomics.load(w, HEAD) !== t) return NOT_YET; // the head waiter takes it (it was woken)
        if (Atomics.compareExchange(w, STATE, 0, MINE | 1) !== 0) continue;
        this._done(); // ours: leave the queue
        return true;
      }
      if ((s & 1) === 0 && Atomics.compareExchange(w, STATE, s, s | 1) !== s) continue;
      return NOT_YET;
    }
  }

  /** Took the lock by itself: drop the ticket (it cannot have been granted: only a holder grants). */
  private _done(): void {
    abandon(this.w, this.t);
  }

  giveUp(cancelled: boolean): boolean {
    const t = this.t;
    if (t === -1 || t === FULL) return false;
    if (!abandon(this.w, t)) {
      wake(this.w); // the queue's head may have moved: let the next waiter look
      return false;
    }
    // Handed the lock just as we gave up: keep it (timeout), or pass it on (cancelled).
    if (cancelled) releaseSlow(this.w, "Lock");
    else Atomics.store(this.w, STATE, MINE | 1);
    return true;
  }

  /** Took the lock, but the task was cancelled before it ran again: the next waiter gets it. */
  passOn(r: boolean): void {
    if (r) releaseWord(this.w, "Lock");
  }
}

/** Sets the waiting bit of a held lock word (so that its release wakes sleepers). */
function markWaiting(w: Int32Array): void {
  for (;;) {
    const s = Atomics.load(w, STATE);
    if (s === 0 || (s & 1) !== 0 || Atomics.compareExchange(w, STATE, s, s | 1) === s) return;
  }
}

/**
 * One `acquireSync` that has to block: no ticket (threading's locks promise no order), just the
 * futex mutex's "mark contended and take it if free" between sleeps. It competes with the lock's
 * async queue only when the lock is free, which it is not while async waiters are queued (a
 * release hands it to them).
 */
class SyncLockWait implements WaitOp<boolean> {
  constructor(protected readonly w: Int32Array) {}
  attempt(): boolean | typeof NOT_YET {
    const w = this.w;
    for (;;) {
      const s = Atomics.load(w, STATE);
      if (s === 0) {
        if (Atomics.compareExchange(w, STATE, 0, MINE | 1) === 0) return true;
      } else if ((s & 1) !== 0 || Atomics.compareExchange(w, STATE, s, s | 1) === s) return NOT_YET;
    }
  }
  giveUp(): boolean {
    return false;
  }
}

/** Frees lock word `w` (held): hand it to the first live waiter, or free it and wake sleepers. */
function releaseWord(w: Int32Array, what: string): void {
  if (Atomics.compareExchange(w, STATE, MINE, 0) === MINE) return;
  releaseSlow(w, what);
}

function releaseSlow(w: Int32Array, what: string): void {
  if (!freeWord(w)) throw new InvalidStateError(`${what}.release(): the lock is not acquired`);
}

/** The release of a held word, whoever holds it (a Lock has no owner); false if it was not held. */
function freeWord(w: Int32Array): boolean {
  for (;;) {
    const s = Atomics.load(w, STATE);
    if (s === 0) return false;
    if ((s & 1) === 0) {
      if (Atomics.compareExchange(w, STATE, s, 0) === s) return true; // nobody waits
      continue;
    }
    if (grant(w, 1) > 0) {
      // Held by the grantee from now on, which names itself when it takes it up (if not already).
      Atomics.compareExchange(w, STATE, s, 1);
      wake(w); // the grantee is one sleeper among others on SEQ: wake them all
      return true;
    }
    if (Atomics.compareExchange(w, STATE, s, 0) !== s) continue;
    Atomics.add(w, SEQ, 1);
    // Free, nobody queued: one blocked acquirer is enough to wake (it competes; the others stay
    // asleep, as with a futex mutex). A ticket taken meanwhile reads STATE after taking it: it sees
    // the lock free. (Write, then read: the taker and we cannot both miss each other.)
    if (Atomics.load(w, SLEEPERS) !== 0) Atomics.notify(w, SEQ, queued(w) ? Infinity : 1);
    return true;
  }
}

/**
 * Crash recovery of a lock word (Lock, RLock; see shared.ts): gives up dead thread `dead`'s
 * tickets — a hand-over it never took up is released — and releases the lock if `dead` holds it.
 * Returns whether there was anything to recover.
 */
function recoverWord(w: Int32Array, dead: number, beforeRelease: () => void): boolean {
  let handedOver = 0;
  const found = recoverTickets(w, dead, () => handedOver++);
  // A hand-over to the dead thread: the word is 1 (held, holder unknown) once the releaser has
  // finished handing over, a few instructions after it granted the ticket.
  for (let i = 0; handedOver > 0 && i < 1_000_000; i++) {
    if (Atomics.load(w, STATE) === 1) {
      freeWord(w);
      handedOver = 0;
    }
  }
  for (;;) {
    const s = Atomics.load(w, STATE);
    if (s === 0 || s >>> 1 !== dead) return found > 0;
    beforeRelease();
    // Claimed as "held, holder unknown", then released as its holder would have.
    if (Atomics.compareExchange(w, STATE, s, 1) !== s) continue;
    freeWord(w);
    return true;
  }
}

/**
 * Before queueing, a blocking acquirer spins a little: a lock held for a few instructions (a
 * counter under a lock) is usually free again within a microsecond, and taking it then costs one
 * compare-exchange, where queueing costs a hand-off and a futex wake per acquisition (a "lock
 * convoy": measured 10 µs per increment with 4 threads, without the spin).
 */
function spinFor(w: Int32Array): boolean {
  for (let i = 0; i < SPIN; i++) {
    if (Atomics.load(w, STATE) === 0 && Atomics.compareExchange(w, STATE, 0, MINE) === 0) return true;
  }
  return false;
}
const SPIN = 200;
const MAIN = isMainThread;

const tryAcquire = (l: Lock): boolean => l.tryAcquire();
const lockWait = (l: Lock): LockWait => new LockWait(l._w);

/**
 * A lock shared by threads, Python's `threading.Lock` with asyncio's manners: `await acquire()` from
 * any thread (a tsaio cancellation point that never blocks the event loop), `acquireSync()` in
 * worker threads (blocks the thread), `release()` from anyone (a `Lock` has no owner).
 *
 * Async waiters are served in FIFO order (a ticket queue in shared memory: a release hands the lock
 * to the first of them). Blocking waiters (`acquireSync`) follow `threading`: no order; they spin
 * briefly, then sleep and compete for the lock whenever it is free. Give it to a pool job as an argument
 * (`pool.submit(jobs.fns.work, lock)`), or send its {@link Lock.handle} to a `Worker` and call
 * {@link Lock.from} there.
 * @example
 * ```ts
 * import { Lock } from "tsaio/threading";
 * const lock = new Lock();
 * await lock.acquire();
 * console.log(lock.locked()); // true
 * lock.release();
 * console.log(await lock.acquire({ timeout: 10 }), lock.locked()); // true true
 * ```
 */
export class Lock {
  /** @internal */ readonly _w: Int32Array;

  constructor() {
    this._w = newWords();
    track(this);
  }

  /**
   * Re-attaches to a lock made in another thread, from its {@link Lock.handle}.
   * @example
   * ```ts
   * import { Lock } from "tsaio/threading";
   * const a = new Lock();
   * const b = Lock.from(a.handle); // as a Worker would, from workerData
   * a.tryAcquire();
   * console.log(b.locked()); // true
   * ```
   */
  static from(handle: Handle): Lock {
    return track(attach(Lock.prototype, handle, "Lock", "Lock.from"));
  }

  /** A plain, structured-cloneable description of this lock, for {@link Lock.from} in another thread. */
  get handle(): Handle {
    return handleOf("Lock", this._w);
  }

  /** Whether the lock is held (by anyone, in any thread). */
  locked(): boolean {
    return Atomics.load(this._w, STATE) !== 0;
  }

  /** Takes the lock if it is free now; never waits. Allowed on every thread. */
  tryAcquire(): boolean {
    return Atomics.compareExchange(this._w, STATE, 0, MINE) === 0;
  }

  /**
   * Waits until the lock is free and takes it; resolves to `true`, or `false` once `timeout` ms
   * passed. A cancellation point; `signal` cancels the wait. Never blocks the event loop.
   */
  acquire(options?: WaitOptions): Promise<boolean> {
    throwAtCall();
    const w = this._w;
    if (options === undefined && Atomics.compareExchange(w, STATE, 0, MINE) === 0) return RESOLVED_TRUE;
    return waitUnlessReady(this, options, "Lock.acquire", tryAcquire, lockWait); // its throwAtCall() finds nothing now
  }

  /**
   * Worker threads only: blocks this thread until the lock is taken (`true`) or `timeout` ms pass
   * (`false`). On the main thread it throws: use `await acquire()` there.
   */
  acquireSync(timeout?: number | null): boolean {
    if (MAIN) checkMayBlock("Lock.acquireSync()", "lock.acquire()");
    const w = this._w;
    if (Atomics.compareExchange(w, STATE, 0, MINE) === 0) return true;
    const deadline = deadlineOf(timeout, "Lock.acquireSync");
    return spinFor(w) || blockUntil(w, new SyncLockWait(w), deadline);
  }

  /** Releases the lock (any thread, any task may). `InvalidStateError` if it is not held. */
  release(): void {
    const w = this._w;
    if (Atomics.compareExchange(w, STATE, MINE, 0) === MINE) return;
    releaseSlow(w, "Lock");
  }

  /** @internal Crash recovery (see shared.ts): gives up what dead thread `dead` held or waited for. */
  _recover(dead: number): boolean {
    return recoverWord(this._w, dead, noop);
  }

  /**
   * Runs `fn` holding the lock, and releases it however `fn` ends.
   * @example
   * ```ts
   * import { Lock } from "tsaio/threading";
   * const lock = new Lock();
   * console.log(await lock.run(() => lock.locked()), lock.locked()); // true false
   * ```
   */
  run<R>(fn: () => R | PromiseLike<R>, options?: { signal?: AbortSignal }): Promise<Awaited<R>> {
    return runHolding(this, fn, options);
  }

  /**
   * Acquires and returns a {@link Held}: `await using _ = await lock.hold()` releases at scope end.
   * @example
   * ```ts
   * import { Lock } from "tsaio/threading";
   * const lock = new Lock();
   * const held = await lock.hold();
   * held.release();
   * console.log(lock.locked()); // false
   * ```
   */
  hold(options?: { signal?: AbortSignal }): Promise<Held> {
    return holdOf(this, options);
  }

  /** @internal The wire form for an executor job argument (see shared.ts). */
  [WIRE](): WireForm {
    return { $tsaioShared: URL_, h: this.handle };
  }

  /** @internal */
  [inspect.custom](): string {
    return `<threading.Lock ${this.locked() ? "locked" : "unlocked"}${holderText(this._w)}${waitersText(this._w)}>`;
  }
}

/** What `run` and `hold` need of a lock or semaphore. */
interface Acquirable {
  acquire(options?: { signal?: AbortSignal }): Promise<boolean>;
  release(): void;
}

/** @internal `run` of a Lock, RLock or Semaphore: `fn` holding `p`, released however `fn` ends. */
export async function runHolding<R>(p: Acquirable, fn: () => R | PromiseLike<R>, options: { signal?: AbortSignal } | undefined): Promise<Awaited<R>> {
  await p.acquire(options);
  try {
    return await fn();
  } finally {
    p.release();
  }
}

/** @internal `hold` of a Lock, RLock or Semaphore: acquires `p` and returns its {@link Held}. */
export async function holdOf(p: Acquirable, options: { signal?: AbortSignal } | undefined): Promise<Held> {
  await p.acquire(options);
  return new Held(p);
}

/**
 * A held acquisition: `release()` it once, or let `await using` / `using` release it.
 * @example
 * ```ts
 * import { Lock } from "tsaio/threading";
 * const lock = new Lock();
 * {
 *   const held = await lock.hold();
 *   held[Symbol.dispose]();
 * }
 * console.log(lock.locked()); // false
 * ```
 */
export class Held {
  /** @internal */
  private _target: { release(): void } | null;
  /** @internal */
  constructor(target: { release(): void }) {
    this._target = target;
  }
  /** Releases (once; later calls do nothing). */
  release(): void {
    const t = this._target;
    this._target = null;
    t?.release();
  }
  [Symbol.dispose](): void {
    this.release();
  }
  async [Symbol.asyncDispose](): Promise<void> {
    this.release();
  }
}

// ------------------------------------------------------------------------------------- RLock

/** RLock words: A = owner thread (+1), B = owner task key, C = recursion count. */
function own(w: Int32Array, key: number): void {
  Atomics.store(w, C, 1);
  Atomics.store(w, B, key);
  Atomics.store(w, A, THREAD);
}

/** No owner (before the lock word is freed). */
function disown(w: Int32Array): void {
  Atomics.store(w, A, 0);
  Atomics.store(w, B, 0);
  Atomics.store(w, C, 0);
}

/** A LockWait that records its owner (the task that called `acquire`) the moment it gets the lock. */
class RLockWait extends LockWait {
  constructor(
    w: Int32Array,
    private readonly _key: number,
  ) {
    super(w);
  }
  override attempt(): boolean | typeof NOT_YET {
    const r = super.attempt();
    if (r === true) own(this.w, this._key);
    return r;
  }
  override giveUp(cancelled: boolean): boolean {
    const r = super.giveUp(cancelled);
    if (r && !cancelled) own(this.w, this._key);
    return r;
  }
  override passOn(r: boolean): void {
    if (!r) return;
    disown(this.w);
    releaseWord(this.w, "RLock");
  }
}

const tryAcquireR = (l: RLock): boolean => l.tryAcquire();
const rlockWait = (l: RLock): RLockWait => new RLockWait(l._w, taskKey());

/**
 * A re-entrant lock shared by threads, Python's `threading.RLock`: its owner — one thread, and
 * within it one tsaio task (or the thread's plain code outside any task) — may acquire it again;
 * each `acquire` needs its `release`. Releasing it from anyone but the owner throws
 * `InvalidStateError` (Python's `RuntimeError`).
 * @example
 * ```ts
 * import { RLock } from "tsaio/threading";
 * const lock = new RLock();
 * await lock.acquire();
 * await lock.acquire(); // the owner again: no wait
 * lock.release();
 * console.log(lock.locked()); // true
 * lock.release();
 * console.log(lock.locked()); // false
 * ```
 */
export class RLock {
  /** @internal */ readonly _w: Int32Array;

  constructor() {
    this._w = newWords();
    track(this);
  }

  /**
   * Re-attaches to an RLock made in another thread, from its {@link RLock.handle}.
   * @example
   * ```ts
   * import { RLock } from "tsaio/threading";
   * const r = RLock.from(new RLock().handle);
   * console.log(r.locked()); // false
   * ```
   */
  static from(handle: Handle): RLock {
    return track(attach(RLock.prototype, handle, "RLock", "RLock.from"));
  }

  /** A plain, structured-cloneable description of this lock, for {@link RLock.from}. */
  get handle(): Handle {
    return handleOf("RLock", this._w);
  }

  /** Whether the lock is held. */
  locked(): boolean {
    return Atomics.load(this._w, STATE) !== 0;
  }

  /** Whether the current thread and task own it. */
  owned(): boolean {
    const w = this._w;
    return Atomics.load(w, A) === THREAD && Atomics.load(w, B) === taskKey();
  }

  /** Takes the lock if free or already ours; never waits. */
  tryAcquire(): boolean {
    if (this._again()) return true;
    if (Atomics.compareExchange(this._w, STATE, 0, MINE) !== 0) return false;
    this._own(1);
    return true;
  }

  /** @internal */
  private _again(): boolean {
    const w = this._w;
    if (Atomics.load(w, A) !== THREAD || Atomics.load(w, B) !== taskKey()) return false;
    w[C]++; // only the owner touches the count
    return true;
  }

  /** @internal Records the caller as owner with recursion `count` (Condition restores it after a wait). */
  _own(count: number): void {
    own(this._w, taskKey());
    Atomics.store(this._w, C, count);
  }

  /** Waits until acquired (at once if already owned); `false` on timeout. A cancellation point. */
  acquire(options?: WaitOptions): Promise<boolean> {
    return waitUnlessReady(this, options, "RLock.acquire", tryAcquireR, rlockWait);
  }

  /** Worker threads only: blocks until acquired (`true`) or `timeout` ms pass (`false`). */
  acquireSync(timeout?: number | null): boolean {
    if (MAIN) checkMayBlock("RLock.acquireSync()", "rlock.acquire()");
    if (this.tryAcquire()) return true;
    const deadline = deadlineOf(timeout, "RLock.acquireSync");
    if (spinFor(this._w)) {
      this._own(1);
      return true;
    }
    const ok = blockUntil(this._w, new SyncLockWait(this._w), deadline);
    if (ok) this._own(1);
    return ok;
  }

  /** Releases one level; the last one frees the lock. `InvalidStateError` unless the caller owns it. */
  release(): void {
    const w = this._w;
    if (Atomics.load(w, A) !== THREAD || Atomics.load(w, B) !== taskKey()) {
      throw new InvalidStateError("RLock.release(): cannot release an RLock this thread and task do not own");
    }
    if (--w[C] > 0) return;
    this._disown();
    releaseWord(w, "RLock");
  }

  /** @internal Frees it entirely (Condition.wait); returns the recursion count to restore. */
  _releaseAll(): number {
    const w = this._w;
    const n = w[C];
    this._disown();
    releaseWord(w, "RLock");
    return n;
  }

  /** @internal Crash recovery (see shared.ts): gives up what dead thread `dead` held or waited for. */
  _recover(dead: number): boolean {
    return recoverWord(this._w, dead, () => {
      if (Atomics.load(this._w, A) === dead) this._disown();
    });
  }

  /** @internal */
  private _disown(): void {
    disown(this._w);
  }

  /** Runs `fn` holding the lock, and releases it however `fn` ends. */
  run<R>(fn: () => R | PromiseLike<R>, options?: { signal?: AbortSignal }): Promise<Awaited<R>> {
    return runHolding(this, fn, options);
  }

  /** Acquires and returns a {@link Held} (`await using _ = await rlock.hold()`). */
  hold(options?: { signal?: AbortSignal }): Promise<Held> {
    return holdOf(this, options);
  }

  /** @internal */
  [WIRE](): WireForm {
    return { $tsaioShared: URL_, h: this.handle };
  }

  /** @internal */
  [inspect.custom](): string {
    const w = this._w;
    const owner = Atomics.load(w, A);
    const held = this.locked() ? `locked owner=thread-${owner - 1} count=${Atomics.load(w, C)}` : "unlocked";
    return `<threading.RLock ${held}${waitersText(w)}>`;
  }
}

function noop(): void {}

/** ` holder=thread-n` for the inspect string of a held lock word whose holder is known. */
function holderText(w: Int32Array): string {
  const holder = Atomics.load(w, STATE) >>> 1;
  return holder > 0 ? ` holder=thread-${holder - 1}` : "";
}

/** @internal Frees a plain Lock's word (Condition). */
export function releaseLockWord(w: Int32Array): void {
  releaseWord(w, "Lock");
}

registerReviver(URL_, (h) => (h.kind === "RLock" ? RLock.from(h) : Lock.from(h)));
