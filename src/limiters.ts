/**
 * Beyond asyncio: the limiters that users of p-queue, async-mutex and Effect keep asking for, built
 * on the same waiter machinery as the asyncio primitives and just as cancellation-safe.
 *
 * - {@link RWLock}: many readers or one writer, writer-fair (FIFO across kinds).
 * - {@link CapacityLimiter}: Trio's — a semaphore that knows its borrowers and whose total can change
 *   at run time.
 * - {@link RateLimiter}: a token bucket — at most `limit` acquisitions per `interval` on average,
 *   bursts up to a cap.
 *
 * All of them hand a grant to a waiter when they wake it (like asyncio's Semaphore): the grant shows
 * in the state at once, newcomers cannot barge past the woken waiter, and a waiter cancelled after it
 * was granted gives the grant back, which goes to the next waiter. No lost wake-ups.
 * @module
 */
import { inspect } from "node:util";
import { runningLoop } from "./context.js";
import { currentTaskOrNull } from "./tasks.js";
import { InvalidStateError } from "./errors.js";
import { checkCount, checkFunction, checkOptions, describe, signalOf } from "./internal/validate.js";
import { type DescribeOptions, FULL, show } from "./internal/describe.js";
import { abortedAtStart, Held, holdAfter, RESOLVED_TRUE, type Releasable, runHeld, startWait, type Waiter, WaiterList } from "./waiters.js";
import type { Acquirable, SignalOptions } from "./locks.js";
import type { Loop, TimerHandle } from "./loop.js";

// ------------------------------------------------------------------------------------------ RWLock

const READ = 0;
const WRITE = 1;

/**
 * A readers–writer lock: any number of readers together, or one writer alone. Writer-fair: requests
 * are served in arrival order, so a reader arriving while a writer waits queues behind that writer
 * (writers never starve), and the readers queued together behind a writer all enter together once
 * it leaves. Use the two sides, `rw.read` and `rw.write`, like Locks.
 * @example
 * ```ts
 * import { RWLock, gather, sleep } from "tsaio";
 * const rw = new RWLock();
 * const log: string[] = [];
 * const reader = (n: number) => rw.read.run(async () => { log.push(`r${n}`); await sleep(10); });
 * const writer = () => rw.write.run(async () => { log.push(`w(readers=${rw.readers})`); await sleep(10); });
 * await gather([() => reader(1), () => reader(2), writer, () => reader(3)]);
 * console.log(log.join(" ")); // r1 r2 w(readers=0) r3
 * ```
 */
export class RWLock {
  /** @internal */ _readers = 0;
  /** @internal */ _writer = false;
  /** @internal */ _waiters: WaiterList | null = null;
  /** The shared side: many readers may hold it at once, never together with the writer. */
  readonly read: RWLockSide;
  /** The exclusive side: one writer at a time, with no reader. */
  readonly write: RWLockSide;

  constructor() {
    this.read = new RWLockSide(this, READ);
    this.write = new RWLockSide(this, WRITE);
  }

  /** How many readers hold the lock now (granted ones included). */
  get readers(): number {
    return this._readers;
  }

  /** Whether a writer holds the lock now. */
  get writing(): boolean {
    return this._writer;
  }

  /** @internal Whether `kind` could enter now without waiting (nobody pending ahead). */
  _free(kind: number): boolean {
    if (this._writer) return false;
    if (kind === WRITE && this._readers > 0) return false;
    const w = this._waiters;
    return w === null || w.nPending === 0;
  }

  /** @internal */
  _acquire(kind: number, options: SignalOptions | undefined, side: string): Promise<true> {
    const signal = startWait(options, side, "acquire");
    if (abortedAtStart(signal)) return Promise.reject(signal);
    if (this._free(kind)) {
      if (kind === READ) this._readers++;
      else this._writer = true;
      return RESOLVED_TRUE;
    }
    return this._acquireSlow(kind, signal);
  }

  /** @internal */
  private _acquireSlow(kind: number, signal: AbortSignal | undefined): Promise<true> {
    return (this._waiters ??= new WaiterList(this, rwResume)).add(runningLoop(), signal, kind);
  }

  /** @internal */
  _release(kind: number): void {
    if (kind === READ) {
      if (this._readers === 0) throw new InvalidStateError("RWLock.read.release(): no reader holds the lock");
      this._readers--;
    } else {
      if (!this._writer) throw new InvalidStateError("RWLock.write.release(): no writer holds the lock");
      this._writer = false;
    }
    this._grant();
  }

  /** @internal Grants the lock to the waiters at the head: one writer, or every reader up to the next writer. */
  _grant(): void {
    const list = this._waiters;
    if (list === null) return;
    for (;;) {
      const w = list.peekPending();
      if (w === undefined || this._writer) return;
      if (w._tag === WRITE) {
        if (this._readers > 0) return;
        this._writer = true;
        list.wakeHead(w, true);
        return;
      }
      this._readers++;
      list.wakeHead(w, true);
    }
  }

  /** @internal Its describer (see internal/describe.ts); `util.inspect` shows it. */
  _describe(_o: DescribeOptions): string {
    const state = this._writer ? "writing" : this._readers > 0 ? `reading readers=${this._readers}` : "unlocked";
    const n = this._waiters?.nIn ?? 0;
    return `<RWLock ${state}${n > 0 ? ` waiters=${n}` : ""}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}

function rwResume(w: Waiter, failed: boolean, err: unknown): void {
  const rw = w._list.owner as RWLock;
  w._list.remove(w);
  if (failed) {
    if (w.woken()) rw._release(w._tag as number); // granted but leaving: give it back (wakes the next)
    else rw._grant(); // we may have been the writer holding readers back
    w._rej(err);
  } else w._res(true);
}

/**
 * One side of an {@link RWLock} (`rw.read` or `rw.write`): an acquirable like a Lock.
 * @example
 * ```ts
 * import { RWLock } from "tsaio";
 * const rw = new RWLock();
 * await rw.read.acquire();
 * console.log(rw.read.locked(), rw.write.locked()); // false true
 * rw.read.release();
 * ```
 */
export class RWLockSide implements Acquirable {
  /** @internal */
  constructor(
    /** The lock this is a side of. */
    readonly rwlock: RWLock,
    /** @internal */ readonly _kind: number,
  ) {}

  /** @internal */
  private get _name(): string {
    return this._kind === READ ? "RWLock.read" : "RWLock.write";
  }

  /** Waits until this side can be taken (FIFO with the other side); resolves to `true`. */
  acquire(options?: SignalOptions): Promise<true> {
    return this.rwlock._acquire(this._kind, options, this._name);
  }

  /** Releases one hold of this side; `InvalidStateError` if this side is not held. */
  release(): void {
    this.rwlock._release(this._kind);
  }

  /** Whether `acquire()` on this side would wait. */
  locked(): boolean {
    return !this.rwlock._free(this._kind);
  }

  /** Runs `fn` holding this side, and releases it however `fn` ends. */
  run<R>(fn: () => R | PromiseLike<R>, options?: SignalOptions): Promise<Awaited<R>> {
    checkFunction(fn, `${this._name}.run`, "fn");
    return runHeld(this, this.acquire(options), fn);
  }

  /** Takes this side and returns a {@link Held} that releases it (`await using`). */
  hold(options?: SignalOptions): Promise<Held> {
    return holdAfter(this, this.acquire(options));
  }

  /** @internal Its describer (see internal/describe.ts); `util.inspect` shows it. */
  _describe(o: DescribeOptions): string {
    return `<${this._name} of ${show(this.rwlock, o)}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}

// ------------------------------------------------------------------------------- CapacityLimiter

const HOLDING = 1;
const WAITING = 2;

/** Options of `CapacityLimiter.acquire`. */
export interface BorrowOptions extends SignalOptions {
  /** Who borrows the token (default: the current task). Any object; each holds at most one token. */
  borrower?: object;
}

/** What `CapacityLimiter.statistics()` returns. */
export interface CapacityLimiterStatistics {
  /** Tokens held now. */
  borrowedTokens: number;
  /** The limiter's total. */
  totalTokens: number;
  /** Who holds them. */
  borrowers: object[];
  /** How many acquisitions wait. */
  tasksWaiting: number;
}

/**
 * An anonymous borrower, made by `run()`/`hold()` for one use: it names the task that made it.
 * @example
 * ```ts
 * import { CapacityLimiter } from "tsaio";
 * const limiter = new CapacityLimiter(1);
 * await limiter.run(async () => console.log(limiter.statistics().borrowers[0] instanceof Object)); // true
 * ```
 */
export class Borrow {
  /** The task that borrowed, or null outside tasks. */
  readonly task = currentTaskOrNull();
  /** @internal Its describer (see internal/describe.ts); `util.inspect` shows it. */
  _describe(_o: DescribeOptions): string {
    return `<Borrow by ${this.task === null ? "no task" : JSON.stringify(this.task.name)}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}

/**
 * Trio's `CapacityLimiter`: a semaphore that knows who holds its tokens. Each borrower (by default
 * the current task) holds at most one token, so releasing from the wrong task or acquiring twice is
 * caught (`InvalidStateError`). `totalTokens` can be changed at run time: raising it wakes waiters at
 * once; lowering it lets current borrowers finish and makes newcomers wait. FIFO-fair and
 * cancellation-safe like {@link Semaphore}. `run(fn)` and `hold()` borrow on behalf of a fresh
 * anonymous {@link Borrow}, so one task may run many jobs through the limiter at once.
 * @example
 * ```ts
 * import { CapacityLimiter, gather, sleep } from "tsaio";
 * const limiter = new CapacityLimiter(2);
 * const job = (i: number) => limiter.run(async () => { await sleep(10); return limiter.borrowedTokens; });
 * console.log(await gather([0, 1, 2].map((i) => () => job(i)))); // [ 2, 2, 1 ]
 * limiter.totalTokens = 10;
 * console.log(limiter.availableTokens); // 10
 * ```
 */
export class CapacityLimiter {
  /** @internal */ _total: number;
  /** @internal */ _borrowed = 0;
  /** @internal */ readonly _borrowers = new Map<object, number>();
  /** @internal */ _waiters: WaiterList | null = null;

  /** A limiter with `totalTokens` tokens (an integer >= 1, or Infinity). */
  constructor(totalTokens: number) {
    checkCount(totalTokens, "CapacityLimiter", "totalTokens", 1, true);
    this._total = totalTokens;
  }

  /** The number of tokens; settable at run time (an integer >= 1, or Infinity). */
  get totalTokens(): number {
    return this._total;
  }
  set totalTokens(value: number) {
    checkCount(value, "CapacityLimiter.totalTokens", "value", 1, true);
    this._total = value;
    this._grant();
  }

  /** Tokens held now. */
  get borrowedTokens(): number {
    return this._borrowed;
  }

  /** Tokens free now (0 while the total is lowered below what is borrowed). */
  get availableTokens(): number {
    return Math.max(0, this._total - this._borrowed);
  }

  /** A snapshot of the limiter's state. */
  statistics(): CapacityLimiterStatistics {
    const borrowers: object[] = [];
    for (const [b, s] of this._borrowers) if (s === HOLDING) borrowers.push(b);
    return { borrowedTokens: this._borrowed, totalTokens: this._total, borrowers, tasksWaiting: this._waiters?.nPending ?? 0 };
  }

  /** Whether `acquire()` would wait. */
  locked(): boolean {
    const w = this._waiters;
    return this._borrowed >= this._total || (w !== null && w.nPending > 0);
  }

  /** @internal */
  private _borrowerOf(options: BorrowOptions | undefined, fnName: string): object {
    const b = options?.borrower ?? currentTaskOrNull();
    if (b === null) throw new InvalidStateError(`${fnName}: outside a task, pass \`{ borrower }\``);
    if (typeof b !== "object" && typeof b !== "function") throw new TypeError(`${fnName}: \`borrower\` must be an object, got ${describe(b)}`);
    return b;
  }

  /**
   * Borrows a token for `borrower` (default: the current task), waiting (FIFO) while none is free.
   * `InvalidStateError` if that borrower already holds or waits for a token of this limiter.
   */
  acquire(options?: BorrowOptions): Promise<true> {
    signalOf(options, "CapacityLimiter.acquire"); // checked first: the borrower comes from the same options
    let borrower: object;
    try {
      borrower = this._borrowerOf(options, "CapacityLimiter.acquire");
    } catch (e) {
      if (e instanceof TypeError) throw e;
      return Promise.reject(e as Error);
    }
    if (this._borrowers.has(borrower)) {
      return Promise.reject(new InvalidStateError("CapacityLimiter.acquire(): this borrower already holds or waits for a token"));
    }
    const signal = startWait(options, "CapacityLimiter", "acquire");
    if (abortedAtStart(signal)) return Promise.reject(signal);
    if (!this.locked()) {
      this._borrowers.set(borrower, HOLDING);
      this._borrowed++;
      return RESOLVED_TRUE;
    }
    return this._acquireSlow(borrower, signal);
  }

  /** Borrows a token now if one is free (and nobody waits); returns whether it did. */
  tryAcquire(options?: { borrower?: object }): boolean {
    const borrower = this._borrowerOf(options, "CapacityLimiter.tryAcquire");
    if (this._borrowers.has(borrower)) throw new InvalidStateError("CapacityLimiter.tryAcquire(): this borrower already holds or waits for a token");
    if (this.locked()) return false;
    this._borrowers.set(borrower, HOLDING);
    this._borrowed++;
    return true;
  }

  /** @internal */
  private _acquireSlow(borrower: object, signal: AbortSignal | undefined): Promise<true> {
    this._borrowers.set(borrower, WAITING);
    return (this._waiters ??= new WaiterList(this, limiterResume)).add(runningLoop(), signal, borrower);
  }

  /**
   * Gives back the token of `borrower` (default: the current task) and hands it to the first waiter.
   * `InvalidStateError` if that borrower holds no token (nothing changes).
   */
  release(borrower?: object): void {
    const b = borrower ?? currentTaskOrNull();
    if (b === null || this._borrowers.get(b) !== HOLDING) {
      throw new InvalidStateError("CapacityLimiter.release(): this borrower holds no token of this limiter");
    }
    this._borrowers.delete(b);
    this._borrowed--;
    this._grant();
  }

  /** @internal */
  _grant(): void {
    const list = this._waiters;
    if (list === null) return;
    while (this._borrowed < this._total) {
      const w = list.peekPending();
      if (w === undefined) return;
      this._borrowers.set(w._tag as object, HOLDING);
      this._borrowed++;
      list.wakeHead(w, true);
    }
  }

  /** Runs `fn` holding a token (borrowed by a fresh {@link Borrow}), and gives it back however `fn` ends. */
  run<R>(fn: () => R | PromiseLike<R>, options?: SignalOptions): Promise<Awaited<R>> {
    checkFunction(fn, "CapacityLimiter.run", "fn");
    const borrower = new Borrow();
    return runHeld(new Giver(this, borrower), this.acquire({ signal: signalOf(options, "CapacityLimiter.run"), borrower }), fn);
  }

  /** Borrows a token (for a fresh {@link Borrow}) and returns a {@link Held} that gives it back. */
  hold(options?: SignalOptions): Promise<Held> {
    const borrower = new Borrow();
    return holdAfter(new Giver(this, borrower), this.acquire({ signal: signalOf(options, "CapacityLimiter.hold"), borrower }));
  }

  /** @internal Its describer (see internal/describe.ts); `util.inspect` shows it. */
  _describe(o: DescribeOptions): string {
    const n = this._waiters?.nPending ?? 0;
    // Who holds the tokens, by name (a task's, or the borrower's class): the first 5.
    const holders: string[] = [];
    for (const [b, s] of this._borrowers) {
      if (s !== HOLDING) continue;
      if (holders.length === 5) {
        holders.push("…");
        break;
      }
      const who = b instanceof Borrow ? b.task : b; // the default borrower stands for its task
      const name = (who as { name?: unknown } | null)?.name;
      holders.push(typeof name === "string" ? JSON.stringify(name) : show(b, o));
    }
    return `<CapacityLimiter borrowed=${this._borrowed}/${this._total}${n > 0 ? ` waiters=${n}` : ""}${holders.length > 0 ? ` holders=[${holders.join(", ")}]` : ""}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}

function limiterResume(w: Waiter, failed: boolean, err: unknown): void {
  const limiter = w._list.owner as CapacityLimiter;
  w._list.remove(w);
  if (failed) {
    if (w.woken()) limiter.release(w._tag as object);
    else {
      limiter._borrowers.delete(w._tag as object);
      limiter._grant();
    }
    w._rej(err);
  } else w._res(true);
}

/** Releases one borrower's token. */
class Giver implements Releasable {
  constructor(
    private readonly _limiter: CapacityLimiter,
    private readonly _borrower: object,
  ) {}
  release(): void {
    this._limiter.release(this._borrower);
  }
  /** @internal Its describer (see internal/describe.ts); `util.inspect` shows it. */
  _describe(o: DescribeOptions): string {
    return show(this._limiter, o);
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}

// ---------------------------------------------------------------------------------- RateLimiter

/** Options of a {@link RateLimiter}. */
export interface RateLimiterOptions {
  /** How many acquisitions may happen back to back after a quiet period (default: `limit`). */
  burst?: number;
}

const EPS = 1e-6;

/**
 * A token bucket: on average at most `limit` acquisitions per `interval` ms, with bursts of up to
 * `burst` (default `limit`) back to back after a quiet period. The bucket starts full. Waiters are
 * served FIFO, each as soon as its token is due (one timer on the loop, whatever the number of
 * waiters); a cancelled waiter consumes nothing, and one cancelled after its token was granted gives
 * it back. Exact on the virtual clock.
 *
 * Implemented as GCRA (the "virtual scheduling" form of a token bucket): each grant pushes a
 * theoretical arrival time forward by `interval / limit`; a grant is allowed while that time is less
 * than `burst` emission intervals ahead of now.
 * @example
 * ```ts
 * import { RateLimiter, getRunningLoop, run } from "tsaio";
 * await run(async () => {
 *   const limiter = new RateLimiter(2, 1_000); // 2 per second, bursts of 2
 *   const loop = getRunningLoop();
 *   const times: number[] = [];
 *   for (let i = 0; i < 5; i++) { await limiter.acquire(); times.push(Math.round(loop.time())); }
 *   console.log(times); // [ 0, 0, 500, 1000, 1500 ]
 * }, { clock: "virtual" });
 * ```
 */
export class RateLimiter {
  /** @internal */ readonly _limit: number;
  /** @internal */ readonly _interval: number;
  /** @internal */ readonly _burst: number;
  /** @internal emission interval */ readonly _t: number;
  /** @internal tolerance */ readonly _tau: number;
  /** @internal theoretical arrival time */ _tat = -Infinity;
  /** @internal */ _waiters: WaiterList | null = null;
  /** @internal */ _timer: TimerHandle | null = null;

  /**
   * A limiter allowing `limit` acquisitions (an integer >= 1) per `interval` milliseconds (> 0),
   * bursts of up to `options.burst` (an integer >= 1, default `limit`).
   */
  constructor(limit: number, interval: number, options?: RateLimiterOptions) {
    checkCount(limit, "RateLimiter", "limit", 1);
    if (typeof interval !== "number") throw new TypeError(`RateLimiter: \`interval\` must be a number of milliseconds, got ${describe(interval)}`);
    if (!(interval > 0) || !Number.isFinite(interval)) throw new RangeError(`RateLimiter: \`interval\` must be a finite number of milliseconds > 0, got ${interval}`);
    checkOptions(options, "RateLimiter");
    const burst = options?.burst ?? limit;
    checkCount(burst, "RateLimiter", "burst", 1);
    this._limit = limit;
    this._interval = interval;
    this._burst = burst;
    this._t = interval / limit;
    this._tau = (burst - 1) * this._t;
  }

  /** The `limit` given to the constructor. */
  get limit(): number {
    return this._limit;
  }

  /** The `interval` given to the constructor (ms). */
  get interval(): number {
    return this._interval;
  }

  /** The burst cap. */
  get burst(): number {
    return this._burst;
  }

  /** Tokens that could be taken right now without waiting (0 while anyone waits). */
  get availableTokens(): number {
    const w = this._waiters;
    if (w !== null && w.nPending > 0) return 0;
    const now = runningLoop().time();
    const ahead = Math.max(0, this._tat - now);
    return Math.max(0, Math.min(this._burst, Math.floor((this._tau - ahead + EPS) / this._t) + 1));
  }

  /** @internal */
  private _conforms(now: number): boolean {
    return this._tat - now <= this._tau + EPS;
  }

  /** @internal */
  private _take(now: number): void {
    this._tat = Math.max(this._tat, now) + this._t;
  }

  /** Takes a token now if one is due and nobody waits; returns whether it did. */
  tryAcquire(): boolean {
    const w = this._waiters;
    const now = runningLoop().time();
    if ((w === null || w.nPending === 0) && this._conforms(now)) {
      this._take(now);
      return true;
    }
    return false;
  }

  /**
   * Waits until a token is due (FIFO) and takes it; resolves to `true`. Without yielding when one
   * is available and nobody waits. A cancellation point; `signal` cancels the wait.
   */
  acquire(options?: SignalOptions): Promise<true> {
    const signal = startWait(options, "RateLimiter", "acquire");
    if (abortedAtStart(signal)) return Promise.reject(signal);
    const loop = runningLoop();
    const now = loop.time();
    const w = this._waiters;
    if ((w === null || w.nPending === 0) && this._conforms(now)) {
      this._take(now);
      return RESOLVED_TRUE;
    }
    return this._acquireSlow(loop, signal);
  }

  /** @internal */
  private _acquireSlow(loop: Loop, signal: AbortSignal | undefined): Promise<true> {
    const waiting = (this._waiters ??= new WaiterList(this, rateResume)).add(loop, signal);
    this._schedule(loop);
    return waiting;
  }

  /** @internal */
  _left(w: Waiter): void {
    if (w.woken()) {
      this._tat -= this._t; // give the token back
      this._pump(w._loop);
    } else if (this._timer !== null && (this._waiters as WaiterList).nPending === 0) {
      this._timer.cancel();
      this._timer = null;
    }
  }

  /** @internal */
  private _schedule(loop: Loop): void {
    if (this._timer !== null) return;
    this._timer = loop.callAt(Math.max(this._tat - this._tau, loop.time()), pumpLimiter, this, loop);
  }

  /** @internal Grants every token that is due, FIFO; re-arms the timer for the rest. */
  _pump(loop: Loop): void {
    if (this._timer !== null) {
      this._timer.cancel();
      this._timer = null;
    }
    const list = this._waiters;
    if (list === null) return;
    const now = loop.time();
    while (this._conforms(now)) {
      const w = list.peekPending();
      if (w === undefined) return;
      this._take(now);
      list.wakeHead(w, true);
    }
    if (list.nPending > 0) this._schedule(loop);
  }

  /** Waits for a token, then runs `fn` and returns its result. */
  run<R>(fn: () => R | PromiseLike<R>, options?: SignalOptions): Promise<Awaited<R>> {
    checkFunction(fn, "RateLimiter.run", "fn");
    return runAfter(this.acquire(options), fn);
  }

  /** @internal Its describer (see internal/describe.ts); `util.inspect` shows it. */
  _describe(_o: DescribeOptions): string {
    const n = this._waiters?.nPending ?? 0;
    return `<RateLimiter ${this._limit}/${this._interval}ms burst=${this._burst}${n > 0 ? ` waiters=${n}` : ""}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}

function rateResume(w: Waiter, failed: boolean, err: unknown): void {
  const limiter = w._list.owner as RateLimiter;
  w._list.remove(w);
  if (failed) {
    limiter._left(w);
    w._rej(err);
  } else w._res(true);
}

async function runAfter<R>(acquired: Promise<unknown>, fn: () => R | PromiseLike<R>): Promise<Awaited<R>> {
  await acquired;
  return await fn();
}

function pumpLimiter(limiter: RateLimiter, loop: Loop): void {
  limiter._timer = null;
  limiter._pump(loop);
}
