/**
 * The shared-memory core of `tsaio/threading`: the word layout every primitive uses, the FIFO ticket
 * queue, the two wait drivers (blocking in a worker, `Atomics.waitAsync` anywhere), handles and the
 * revive registry that lets a primitive cross to another thread.
 *
 * ## Layout
 * A primitive is an `Int32Array` of {@link WORDS} words over a `SharedArrayBuffer` (its own, at offset
 * 0; the handle carries an offset anyway so that primitives may later share one buffer):
 *
 * | word | use |
 * | --- | --- |
 * | STATE | the primitive's state: lock word, semaphore value, event flag, barrier count |
 * | SEQ | bumped (and notified) whenever a waiter may be able to go on: every wait sleeps on it |
 * | NEXT, HEAD | the ticket queue (below) |
 * | A..D | per primitive (RLock owner, barrier generation, …) |
 * | SLEEPERS | sleepers on SEQ: a waker skips `Atomics.notify` (a global mutex in V8) when there are none |
 * | HDR.. | the ticket ring ({@link SLOTS} words) |
 * | OWN.. | the owner ring: the thread that took each ticket, until it is served or given up |
 * | TABLE.. | the holders table of a Semaphore: permits held per thread |
 *
 * ## FIFO: the ticket queue
 * A waiter that cannot go on at once takes a ticket (`NEXT`, compare-exchanged), so waiters — async
 * or sync, in any thread — are served in ticket order. `HEAD` is the first ticket not yet served.
 * Serving a ticket is a hand-off ({@link grant}): advance `HEAD`, then *exchange* the ticket's ring
 * slot to "granted". A waiter that gives up (timeout, cancel, signal) *exchanges* its slot to
 * "abandoned" ({@link abandon}). Both sides exchange the same word, so exactly one of them sees the
 * other's mark: either the granter sees "abandoned" and serves the next ticket instead, or the waiter
 * sees "granted" and passes what it was given on (releases the lock it was handed). No hand-off is
 * ever lost, and no abandoned ticket blocks the queue. The ring holds {@link SLOTS} tickets; a waiter
 * finding it full waits (unqueued) for room.
 *
 * A fast path skips the queue when nobody waits (an uncontended `acquireSync()` is one
 * compare-exchange), so a thread arriving exactly when the lock frees may overtake the queue's
 * head: FIFO holds among waiters, as in asyncio.
 *
 * ## Waking
 * Every wait sleeps on `SEQ` with the value it read *before* checking its condition; whoever changes
 * something a waiter may need bumps `SEQ` and notifies. So a change between the check and the sleep
 * makes the sleep return at once: no lost wake-up. Wake-ups may be spurious (all sleepers on a
 * primitive wake and re-check); that is correct, and cheap while waiters are few.
 *
 * ## Crash recovery
 * A thread that dies cannot release what it holds nor give up its tickets. Holders are recorded in
 * shared memory (the Lock word names its holder thread, RLock's word A too, a Semaphore keeps a
 * holders table), and so are ticket takers (the owner ring). When a thread tsaio knows dies — a
 * ThreadPoolExecutor worker (the executor publishes `tsaio:executor:thread-exit`) or a `Worker`
 * given to {@link registerWorker} — the thread that learns of it calls `_recover(dead)` on every
 * live primitive it has made or re-attached (a registry of WeakRefs): the dead thread's waiting
 * tickets are given up as a cancelled waiter's would be, a hand-over it never took up is passed on,
 * and what it held is released. Then every sleeper on those primitives is woken.
 * Internal: not part of the package's public API.
 * @module
 */
import { isMainThread, threadId } from "node:worker_threads";
import { runningLoop } from "../context.js";
import { CancelledError } from "../errors.js";
import { abortMessage, Future, throwAtCall, WaiterFuture } from "../futures.js";
import { checkMs, describe, signalOf } from "../internal/validate.js";
import type { Loop } from "../loop.js";
import { currentTask } from "../tasks.js";

export const STATE = 0;
export const SEQ = 1;
export const NEXT = 2;
export const HEAD = 3;
export const A = 4;
export const B = 5;
export const C = 6;
export const D = 7;
/** How many sleep (or have an `Atomics.waitAsync` pending) on SEQ: wakers notify only when some do. */
export const SLEEPERS = 8;
export const HDR = 9;
/** Ticket ring entries (a power of two): at most this many waiters queue at once per primitive. */
export const SLOTS = 256;
const MASK = SLOTS - 1;
/** The owner ring: who took each ticket (crash recovery: a dead thread's tickets are given up). */
export const OWN = HDR + SLOTS;
/** The holders table (Semaphore): {@link HOLDERS} words `thread << 12 | permits held`. */
export const TABLE = OWN + SLOTS;
export const HOLDERS = 32;
export const WORDS = TABLE + HOLDERS;

/** A fresh, zeroed word array on its own SharedArrayBuffer. */
export function newWords(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(WORDS * 4));
}

// ------------------------------------------------------------------------------ handles

/**
 * What a primitive is made of, as a plain structured-cloneable object: send it to a `Worker`
 * (`workerData`, `postMessage`) and re-attach there with the class's `from(handle)`.
 */
export interface Handle {
  readonly kind: string;
  readonly sab: SharedArrayBuffer;
  readonly offset: number;
}

/** The words of `h`, checked: TypeError naming `what` if `h` is not a handle of `kind`. */
export function wordsOf(h: unknown, kind: string | readonly string[], what: string): Int32Array {
  const ok = typeof h === "object" && h !== null && (typeof kind === "string" ? (h as Handle).kind === kind : kind.includes((h as Handle).kind));
  if (!ok || !((h as Handle).sab instanceof SharedArrayBuffer) || !Number.isInteger((h as Handle).offset)) {
    throw new TypeError(`${what}: \`handle\` must be the \`handle\` of a ${typeof kind === "string" ? kind : kind.join(" or ")}, got ${describe(h)}`);
  }
  return new Int32Array((h as Handle).sab, (h as Handle).offset, WORDS);
}

/**
 * Throws the TypeError of a bad `handle` (naming `what`) unless `h` is an object of `kind` on a
 * SharedArrayBuffer: the check of the `from` whose handle is more than words (Queue, Value, SharedArray).
 */
export function checkHandle(h: unknown, kind: string, what: string): void {
  if (typeof h !== "object" || h === null || (h as Handle).kind !== kind || !((h as Handle).sab instanceof SharedArrayBuffer)) {
    throw new TypeError(`${what}: \`handle\` must be the \`handle\` of a ${kind}, got ${describe(h)}`);
  }
}

// Why no common base class for Lock, RLock, Semaphore, Event, Condition, Barrier (and Queue): what
// they repeat is one-line delegations to the helpers here (attach, handleOf, waitUnlessReady,
// runHolding/holdOf in lock.ts) plus the `_w` field and the WIRE method, and most of those lines
// carry each class's own TSDoc and examples. A base class would have to be public (the .d.ts of
// `class Lock extends Base` names Base; stripInternal cannot hide it), would add a name to the
// API and a link to every prototype chain, and would save about five lines a class: not worth it.

/**
 * A primitive of class `proto` re-attached from `handle` (its `from`): an object of that prototype
 * whose `_w` are the handle's words, checked as {@link wordsOf} does.
 */
export function attach<T>(proto: object, handle: unknown, kind: string | readonly string[], what: string): T {
  const p = Object.create(proto) as { _w: Int32Array };
  p._w = wordsOf(handle, kind, what);
  return p as unknown as T;
}

/** ` waiters=n` for an inspect string when tickets are queued on `w`, else "". */
export function waitersText(w: Int32Array): string {
  const n = queueLength(w);
  return n > 0 ? ` waiters=${n}` : "";
}

/** The handle of words `w` for `kind`. */
export function handleOf(kind: string, w: Int32Array): Handle {
  return { kind, sab: w.buffer as SharedArrayBuffer, offset: w.byteOffset };
}

/**
 * The symbol executors look for on an object argument of `submit` (the same one transfer markers
 * carry, so a job without primitives pays no extra property read). On a primitive it is a method
 * returning the argument's wire form.
 */
export const WIRE = Symbol.for("tsaio.executors.transfer");

/** A primitive as it crosses to a thread worker: the module that revives it, and its handle. */
export interface WireForm {
  $tsaioShared: string;
  h: Handle;
}

type Reviver = (h: Handle) => object;

/** Revivers by module URL, shared by every copy of tsaio loaded in this thread (see executors/protocol.ts). */
export function revivers(): Map<string, Reviver> {
  const g = globalThis as unknown as Record<symbol, Map<string, Reviver> | undefined>;
  const key = Symbol.for("tsaio.threading.revivers");
  return (g[key] ??= new Map());
}

/** Registers the reviver of the primitives defined in module `url`. */
export function registerReviver(url: string, fn: Reviver): void {
  revivers().set(url, fn);
}

// ------------------------------------------------------------------------------ ticket queue

const granted = (t: number): number => ((t << 1) + 2) | 0;
const abandoned = (t: number): number => ((t << 1) + 3) | 0;
export const FULL = 0x7fffffff; // never a ticket handed out in practice (2^31 - 1 waits later, it is skipped)

/**
 * The owner-ring word of ticket `t` taken by `thread` (a THREAD value): the thread and the ticket's
 * generation (its bits above the ring index), so a stale word left by ticket `t - SLOTS` is told
 * apart. 0 (nobody) for thread ids too large to fit.
 */
function ownerTag(thread: number, t: number): number {
  return thread < 1 << 23 ? (thread << 8) | ((t >>> 8) & 0xff) : 0;
}

/** Takes a ticket (recording this thread as its owner), or {@link FULL} if the ring is full. */
export function take(w: Int32Array): number {
  for (;;) {
    const t = Atomics.load(w, NEXT);
    if (((t - Atomics.load(w, HEAD)) | 0) >= SLOTS || t === FULL) return FULL;
    if (Atomics.compareExchange(w, NEXT, t, (t + 1) | 0) === t) {
      Atomics.store(w, OWN + (t & MASK), ownerTag(THREAD, t));
      return t;
    }
  }
}

/** Whether someone holds a ticket not yet served. */
export function queued(w: Int32Array): boolean {
  return Atomics.load(w, HEAD) !== Atomics.load(w, NEXT);
}

/** Tickets not yet served (abandoned ones included until skipped). */
export function queueLength(w: Int32Array): number {
  return (Atomics.load(w, NEXT) - Atomics.load(w, HEAD)) | 0;
}

/**
 * Whether ticket `t` was granted. Its waiter calls it, and takes up what was handed over when it
 * returns true: the ticket's owner word is cleared (crash recovery no longer counts it).
 */
export function isGranted(w: Int32Array, t: number): boolean {
  if (Atomics.load(w, HDR + (t & MASK)) !== granted(t)) return false;
  Atomics.store(w, OWN + (t & MASK), 0);
  return true;
}

/** Serves up to `k` live tickets in order (skipping abandoned ones); returns how many. Does not wake anyone. */
export function grant(w: Int32Array, k: number): number {
  let n = 0;
  while (n < k) {
    const h = Atomics.load(w, HEAD);
    if (h === Atomics.load(w, NEXT)) break;
    if (Atomics.compareExchange(w, HEAD, h, (h + 1) | 0) !== h) continue;
    if (Atomics.exchange(w, HDR + (h & MASK), granted(h)) !== abandoned(h)) n++;
  }
  return n;
}

/**
 * Gives ticket `t` up (timeout, cancel, or the waiter got what it wanted by another way). Returns
 * true if it had been granted meanwhile: the caller then owns what was handed over and must pass it on.
 */
export function abandon(w: Int32Array, t: number): boolean {
  Atomics.store(w, OWN + (t & MASK), 0);
  if (Atomics.exchange(w, HDR + (t & MASK), abandoned(t)) === granted(t)) return true;
  // Abandoned tickets at the head are skipped by whoever sees them, so the next waiter becomes head.
  for (;;) {
    const h = Atomics.load(w, HEAD);
    if (h === Atomics.load(w, NEXT) || Atomics.load(w, HDR + (h & MASK)) !== abandoned(h)) return false;
    Atomics.compareExchange(w, HEAD, h, (h + 1) | 0);
  }
}

/**
 * Gives up the tickets that dead thread `dead` (a THREAD value) took on `w`, as its waits would
 * have if cancelled: a waiting ticket is abandoned; for one that was granted and never taken up (or
 * is granted as it is abandoned here) `handedOver()` runs, to pass on what was handed over. Returns
 * how many tickets it found. Each is claimed by clearing its owner word, so it is recovered once.
 */
export function recoverTickets(w: Int32Array, dead: number, handedOver: () => void): number {
  let n = 0;
  const next = Atomics.load(w, NEXT);
  for (let i = 1; i <= SLOTS; i++) {
    const t = (next - i) | 0;
    const at = OWN + (t & MASK);
    const tag = ownerTag(dead, t);
    if (tag === 0 || Atomics.load(w, at) !== tag || Atomics.compareExchange(w, at, tag, 0) !== tag) continue;
    n++;
    const slot = Atomics.load(w, HDR + (t & MASK));
    // Granted (HEAD moved past it): what was handed over is still there. Neither granted nor
    // abandoned: still waiting — or being granted right now, which abandon() settles.
    if (slot === granted(t) || (slot !== abandoned(t) && abandon(w, t))) handedOver();
  }
  return n;
}

/**
 * Tells every sleeper on `w` to look again. A sleeper counts itself in SLEEPERS *before* it sleeps
 * on SEQ's old value; a waker bumps SEQ *before* it reads SLEEPERS: so either the waker sees the
 * sleeper and notifies, or the sleeper's wait sees the new SEQ and returns at once.
 */
export function wake(w: Int32Array): void {
  Atomics.add(w, SEQ, 1);
  if (Atomics.load(w, SLEEPERS) !== 0) Atomics.notify(w, SEQ);
}

/** Spins before sleeping (iterations): a hand-off a few µs away is cheaper seen awake than woken from a futex. */
const SPIN = 2000;

// ------------------------------------------------------------------------------ identity

/** This thread's id + 1 (0 means "nobody"), as stored in owner words. */
export const THREAD = threadId + 1;
export { isMainThread };

let taskKeys: WeakMap<object, number> | null = null;
let nextTaskKey = 1;

/** A number naming the current tsaio task in this thread (0 outside any task): RLock ownership. */
export function taskKey(): number {
  const t = currentTask();
  if (t === null) return 0;
  const keys = (taskKeys ??= new WeakMap());
  let k = keys.get(t);
  if (k === undefined) {
    k = nextTaskKey++ | 0 || nextTaskKey++;
    keys.set(t, k);
  }
  return k;
}

// ------------------------------------------------------------------------------ argument checks

/** A timeout in ms (`undefined`/`null`/Infinity: none): the deadline on `performance.now()`. */
export function deadlineOf(timeout: unknown, what: string): number {
  checkMs(timeout, what, "timeout", true);
  return timeout === undefined || timeout === null ? Infinity : performance.now() + timeout;
}

/** Options of every async wait. */
export interface WaitOptions {
  /** Aborting it cancels the wait: the call rejects with `CancelledError`. */
  signal?: AbortSignal;
  /** Give up after this many ms (the call then resolves to `false`, or throws where documented). Default: no limit. */
  timeout?: number | null;
}

/** Checks `options` of an async wait: its signal and deadline. */
export function waitOptions(options: WaitOptions | undefined, what: string): { signal: AbortSignal | undefined; deadline: number } {
  if (options === undefined) return { signal: undefined, deadline: Infinity };
  return { signal: signalOf(options, what), deadline: deadlineOf(options.timeout, what) };
}

/** Sync waits block the thread: refused on the main thread, whose event loop they would freeze. */
export function checkMayBlock(what: string, instead: string): void {
  if (isMainThread) {
    throw new Error(`${what} blocks the calling thread, which is not allowed on the main thread (it would freeze the event loop): use \`await ${instead}\` there, or call ${what} in a worker thread`);
  }
}

// ------------------------------------------------------------------------------ wait drivers

/** "Not yet": an attempt that must wait. */
export const NOT_YET: unique symbol = Symbol("not yet");

/**
 * One wait's logic, written once for both drivers. `attempt()` is called after reading SEQ, so a
 * change it misses wakes the sleep that follows. `giveUp(cancelled)` undoes what the attempts did
 * (abandons the ticket…) and returns the outcome for a timeout — or, when `cancelled`, passes on
 * anything it finds it was given.
 */
export interface WaitOp<R> {
  attempt(): R | typeof NOT_YET;
  giveUp(cancelled: boolean): R;
  /**
   * The async wait ended with `r` (it took what it waited for: a lock, a permit, a notification),
   * but its task was cancelled before it ran again, so the caller gets `CancelledError` instead:
   * give back what was taken, to the next waiter (asyncio's Lock: `_wake_up_first()` on a cancel
   * after the wake-up). Absent: nothing is taken (Event, Barrier).
   */
  passOn?(r: R): void;
}

/** Blocks this (worker) thread until `op` completes or `deadline` (performance.now() ms) passes. */
export function blockUntil<R>(w: Int32Array, op: WaitOp<R>, deadline: number): R {
  for (;;) {
    const s = Atomics.load(w, SEQ);
    const r = op.attempt();
    if (r !== NOT_YET) return r;
    let i = 0;
    while (i < SPIN && Atomics.load(w, SEQ) === s) i++;
    if (i < SPIN) continue; // something changed: look again
    const rest = deadline === Infinity ? Infinity : deadline - performance.now();
    if (rest <= 0) return op.giveUp(false);
    Atomics.add(w, SLEEPERS, 1);
    Atomics.wait(w, SEQ, s, rest);
    Atomics.sub(w, SLEEPERS, 1);
  }
}

// Node 20's TypeScript lib (es2022) does not declare Atomics.waitAsync (V8 has it since Node 16).
type WaitAsyncResult = { async: false; value: "not-equal" | "timed-out" } | { async: true; value: Promise<"ok" | "timed-out"> };
const atomicsWaitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, ms?: number): WaitAsyncResult }).waitAsync;

// Atomics.waitAsync keeps nothing alive: a process whose only pending work is a wait would exit in
// the middle of it. While any async wait is pending in this thread, one ref'ed timer keeps it alive.
let nAlive = 0;
let keeper: NodeJS.Timeout | null = null;
function keepAlive(delta: number): void {
  nAlive += delta;
  if (nAlive > 0 && keeper === null) keeper = setInterval(noop, 1 << 30);
  else if (nAlive === 0 && keeper !== null) {
    clearInterval(keeper);
    keeper = null;
  }
}
function noop(): void {}

/**
 * An async wait: a tsaio Future (so a cancelled task's wait is cancelled, as any tsaio await) driven
 * by `Atomics.waitAsync` on SEQ. Nothing blocks the event loop. On cancel, `giveUp(true)` runs at
 * once and every sleeper is woken so that the abandoned `waitAsync` does not linger.
 */
class AsyncWait<R> {
  readonly fut: WaiterFuture<R>;
  private _live = true;
  private readonly _loop: Loop;
  readonly step: () => void;
  private readonly _resume: () => void;

  constructor(
    owner: object,
    private readonly _w: Int32Array,
    private readonly _op: WaitOp<R>,
    private readonly _deadline: number,
  ) {
    const loop = (this._loop = runningLoop());
    this.fut = new WaiterFuture<R>(loop, owner);
    this.step = () => this._step();
    this._resume = () => {
      Atomics.sub(this._w, SLEEPERS, 1);
      this._step();
    };
    loop._nDetached++; // something outside the loop can wake it: run()'s deadlock detection must wait
    keepAlive(1);
    this.fut._addEntry(this);
  }

  /** The future is done (by us, or cancelled by its task or signal). */
  _onDone(f: Future<unknown>): void {
    if (!this._live) return;
    this._end();
    if (f.cancelled()) {
      this._op.giveUp(true);
      wake(this._w);
    }
  }

  private _end(): void {
    this._live = false;
    this._loop._nDetached--;
    keepAlive(-1);
  }

  private _step(): void {
    const w = this._w;
    // A cancelled future runs its done entries (our _onDone: give up) from a later loop turn; a wake
    // in between must not attempt — it could take what no one would then release.
    while (this._live && !this.fut.done()) {
      const s = Atomics.load(w, SEQ);
      let r: R | typeof NOT_YET;
      let rest = Infinity;
      try {
        r = this._op.attempt();
        if (r === NOT_YET && this._deadline !== Infinity) {
          rest = this._deadline - performance.now();
          if (rest <= 0) r = this._op.giveUp(false);
        }
      } catch (e) {
        this._end();
        this.fut.setException(e);
        return;
      }
      if (r !== NOT_YET) {
        this._end();
        this.fut.setResult(r);
        return;
      }
      Atomics.add(w, SLEEPERS, 1);
      const res = atomicsWaitAsync(w, SEQ, s, rest);
      if (res.async) {
        void res.value.then(this._resume);
        return;
      }
      Atomics.sub(w, SLEEPERS, 1);
    }
  }
}

/**
 * Runs `op` as an async wait: resolves with its outcome; a cancellation point (the caller called
 * `throwAtCall()` already). `signal` cancels it.
 */
export function waitAsync<R>(owner: object, w: Int32Array, op: WaitOp<R>, deadline: number, signal: AbortSignal | undefined): Future<R> {
  const aw = new AsyncWait(owner, w, op, deadline);
  const fut = aw.fut;
  if (signal !== undefined) {
    const onAbort = (): void => void fut.cancel(abortMessage(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    fut._addEntry({ _onDone: () => signal.removeEventListener("abort", onAbort) });
  }
  aw.step();
  return fut;
}

/**
 * The async wait of a Lock, RLock, Semaphore or Event (`what`: its name for errors), all of one
 * shape: a cancellation point; `options` checked; an already aborted signal rejects; then `true` at
 * once if `ready(p)` (which takes what it waits for), else a wait on `opOf(p)`. `ready` and `opOf`
 * are module-level functions, so no closure is made per call.
 */
export function waitUnlessReady<P extends { readonly _w: Int32Array }>(
  p: P,
  options: WaitOptions | undefined,
  what: string,
  ready: (p: P) => boolean,
  opOf: (p: P) => WaitOp<boolean>,
): Promise<boolean> {
  throwAtCall();
  const { signal, deadline } = waitOptions(options, what);
  if (signal?.aborted === true) return abortedNow(signal);
  if (ready(p)) return RESOLVED_TRUE;
  const op = opOf(p);
  return keptOrPassedOn(waitAsync(p, p._w, op, deadline, signal), op);
}

/**
 * Awaits the wait `fut` of `op` (the task is suspended on it, so a cancel reaches it). If the await
 * throws, the wait's outcome is not the caller's: a `fut` still pending is cancelled (an `await`
 * calls `then` a microtask later, and a cancel request that arrives in between is raised there,
 * before it waits — the wait would otherwise go on and take what no one releases, or count a
 * Barrier party that left); a `fut` that completed with what `op` took (the task's cancel arrived
 * after the wake-up) passes it on with `op.passOn`. A grant that crosses a cancel is never lost.
 * Only a wait that had to wait pays this async frame.
 */
export async function keptOrPassedOn<R>(fut: Future<R>, op: WaitOp<R>): Promise<R> {
  try {
    return await fut;
  } catch (e) {
    // A cancel request delivered at the await itself rejects it before it waits: end the wait too
    // (its give-up passes on anything granted meanwhile), else it would still take what it waits for.
    if (!fut.done()) fut.cancel();
    else if (!fut.cancelled() && fut.exception() === null) op.passOn?.(fut.result());
    throw e;
  }
}

/** Rejected at once: `signal` was already aborted when the wait began. */
export function abortedNow(signal: AbortSignal): Promise<never> {
  return Promise.reject(new CancelledError(abortMessage(signal)));
}

/** @internal For the primitives' files (an export-from: a d.ts keeps no import of a stripped name). */
export { throwAtCall } from "../futures.js";

export const RESOLVED_TRUE: Promise<true> = Promise.resolve(true);
export const RESOLVED_FALSE: Promise<false> = Promise.resolve(false);
