/**
 * The waits of tsaio/multiprocessing's connections and queues: each is a tsaio future (so awaiting
 * it from a task is a cancellation point), with an optional real-clock timeout and an AbortSignal.
 * What wakes it is I/O from another thread or process, so while it is pending it counts as a
 * detached wait for `run()`'s deadlock detection and keeps the process alive (the sockets
 * themselves are unreferenced: an idle connection never keeps a finished program running).
 * Internal: not part of the package's public API.
 * @module
 */
import { runningLoop } from "../context.js";
import { CancelledError } from "../errors.js";
import { abortMessage, type DoneEntry, type Future, WaiterFuture } from "../futures.js";
import { Deque } from "../internal/ring.js";
import { checkMs, signalOf } from "../internal/validate.js";
import type { Loop } from "../loop.js";

/** Options of every wait of tsaio/multiprocessing. */
export interface WaitOptions {
  /** Aborting it cancels the wait: the call rejects with `CancelledError`. */
  signal?: AbortSignal;
  /** Give up after this many milliseconds (`null`/`undefined`: no limit). */
  timeout?: number | null;
}

/** @internal Checks `options`: its signal and timeout (ms, Infinity for none). */
export function checkWait(options: WaitOptions | undefined, what: string): { signal: AbortSignal | undefined; timeout: number } {
  if (options === undefined) return { signal: undefined, timeout: Infinity };
  return { signal: signalOf(options, what), timeout: checkTimeout(options.timeout, what, "timeout") };
}

/** @internal A timeout in ms: Infinity for `undefined`/`null`; a TypeError/RangeError naming `name` otherwise. */
export function checkTimeout(t: unknown, what: string, name: string): number {
  checkMs(t, what, name, true);
  return t ?? Infinity;
}

// One referenced timer holds the process alive while any wait is pending (cheaper than ref'ing and
// unref'ing each socket, and it covers waits whose socket does not exist yet).
let alive = 0;
let holder: NodeJS.Timeout | null = null;

/** @internal +1 while something must keep the process alive, -1 when it ends. */
export function keepAlive(delta: number): void {
  const was = alive;
  alive += delta;
  if (was === 0 && alive > 0) (holder ??= setInterval(noop, 1 << 30)).ref();
  else if (alive === 0 && holder !== null) holder.unref(); // kept, unreferenced: cheaper than a new timer per wait
}
function noop(): void {}

/** @internal One pending wait. */
export class IoWait<T> implements DoneEntry {
  readonly fut: WaiterFuture<T>;
  private readonly _loop: Loop;
  private _timer: NodeJS.Timeout | null = null;
  private _signal: AbortSignal | undefined;
  private _onAbort: (() => void) | null = null;
  live = true;
  /** Data of the waiter's owner (a queue's item to put). */
  tag: unknown;

  constructor(owner: object, signal: AbortSignal | undefined, timeout: number, onTimeout: (w: IoWait<T>) => void, tag?: unknown) {
    const loop = (this._loop = runningLoop());
    const fut = (this.fut = new WaiterFuture<T>(loop, owner));
    this.tag = tag;
    loop._nDetached++;
    keepAlive(1);
    if (timeout !== Infinity) {
      this._timer = setTimeout(() => {
        if (!fut.done()) onTimeout(this);
      }, timeout);
      this._timer.unref();
    }
    if (signal !== undefined) {
      this._signal = signal;
      const onAbort = (this._onAbort = (): void => void fut.cancel(abortMessage(signal)));
      signal.addEventListener("abort", onAbort, { once: true });
    }
    fut._addEntry(this);
  }

  /** Ends the wait (the future is done: woken, timed out or cancelled). */
  _onDone(_f: Future<unknown>): void {
    if (!this.live) return;
    this.live = false;
    this._loop._nDetached--;
    keepAlive(-1);
    if (this._timer !== null) clearTimeout(this._timer);
    if (this._onAbort !== null) (this._signal as AbortSignal).removeEventListener("abort", this._onAbort);
  }

  /** Whether it can still be woken (its future may be cancelled and not yet cleaned up). */
  get pending(): boolean {
    return !this.fut.done();
  }
}

/** @internal A FIFO of waits for one kind of event; done waits are skipped lazily. */
export class WaitList<T> {
  private readonly _q = new Deque<IoWait<T>>();

  add(w: IoWait<T>): void {
    if (this._q.length > 64 && this._q.length > 2 * this.count()) this._q.retain((x) => x.pending);
    this._q.push(w);
  }

  /** The first wait still pending (left in the list), or undefined. */
  first(): IoWait<T> | undefined {
    let w = this._q.peek();
    while (w !== undefined && !w.pending) {
      this._q.shift();
      w = this._q.peek();
    }
    return w;
  }

  /** Removes and returns the first pending wait. */
  take(): IoWait<T> | undefined {
    const w = this.first();
    if (w !== undefined) this._q.shift();
    return w;
  }

  /** Pending waits. */
  count(): number {
    let n = 0;
    this._q.forEach((w) => {
      if (w.pending) n++;
    });
    return n;
  }

  /** Settles every pending wait with `result` (a function of the wait) and empties the list. */
  settleAll(settle: (w: IoWait<T>) => void): void {
    for (let w = this.take(); w !== undefined; w = this.take()) settle(w);
  }
}

/** @internal Rejected at once: the call was made with an already aborted signal. */
export function abortedNow(signal: AbortSignal): Promise<never> {
  return Promise.reject(new CancelledError(abortMessage(signal)));
}
