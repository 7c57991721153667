/**
 * `Barrier` across threads. Words: STATE = parties arrived in this generation, A = generation,
 * B = broken (1), C = parties, D = a tiny spin lock guarding STATE/A/B together (held for a few
 * instructions, never across a wait). How each generation ended is kept in the ring (HDR + gen %
 * SLOTS): 1 passed, 2 broken (abort/reset), so a waiter that wakes late still learns its own
 * generation's fate.
 * @module
 */
import { inspect } from "node:util";
import { BrokenBarrierError } from "../errors.js";
import { checkCount } from "../internal/validate.js";
import {
  A,
  abortedNow,
  attach,
  B,
  blockUntil,
  C,
  checkMayBlock,
  D,
  deadlineOf,
  type Handle,
  handleOf,
  HDR,
  newWords,
  NOT_YET,
  registerReviver,
  SLOTS,
  STATE,
  throwAtCall,
  wake,
  type WaitOp,
  type WaitOptions,
  keptOrPassedOn,
  waitAsync,
  waitOptions,
  WIRE,
  type WireForm,
} from "./shared.js";

const URL_ = import.meta.url;
const PASSED = 1;
const BROKEN = 2;
/** A waiter's outcome when the barrier broke: the wait throws (see checkBroken). */
const FAILED = -1;

function lockSpin(w: Int32Array): void {
  while (Atomics.compareExchange(w, D, 0, 1) !== 0);
}
function unlockSpin(w: Int32Array): void {
  Atomics.store(w, D, 0);
}

/** Ends generation `g` as `how` (under the spin lock) and wakes its waiters. */
function endGeneration(w: Int32Array, how: number): void {
  const g = w[A];
  Atomics.store(w, HDR + (g & (SLOTS - 1)), how);
  Atomics.store(w, STATE, 0);
  Atomics.store(w, A, (g + 1) | 0);
}

class BarrierWait implements WaitOp<number> {
  constructor(
    private readonly _w: Int32Array,
    private readonly _g: number,
    private readonly _index: number,
  ) {}
  attempt(): number | typeof NOT_YET {
    const w = this._w;
    if (Atomics.load(w, A) === this._g) return NOT_YET;
    return checkBroken(Atomics.load(w, HDR + (this._g & (SLOTS - 1))) === PASSED ? this._index : FAILED);
  }
  giveUp(cancelled: boolean): number {
    const w = this._w;
    lockSpin(w);
    let r: number;
    if (w[A] !== this._g) r = w[HDR + (this._g & (SLOTS - 1))] === PASSED ? this._index : FAILED;
    else if (cancelled) {
      // asyncio: a cancelled waiter just leaves (the others keep waiting for a full house).
      Atomics.sub(w, STATE, 1);
      r = FAILED;
    } else {
      // threading: a timeout breaks the barrier for everyone.
      Atomics.store(w, B, 1);
      endGeneration(w, BROKEN);
      r = FAILED;
    }
    unlockSpin(w);
    wake(w);
    return cancelled ? r : checkBroken(r);
  }
}

/**
 * A barrier shared by threads, Python's `threading.Barrier` with asyncio's manners: each of
 * `parties` callers of `wait()` blocks until all have arrived; each gets its arrival index
 * (`0 … parties-1`). `abort()` breaks it (waiters and later callers get `BrokenBarrierError`),
 * `reset()` makes it usable again (current waiters get `BrokenBarrierError`). A wait's `timeout`
 * breaks the barrier, as in `threading`; a cancelled `wait()` just leaves, as in asyncio.
 * @example
 * ```ts
 * import { Barrier } from "tsaio/threading";
 * const b = new Barrier(2);
 * const idx = await Promise.all([b.wait(), b.wait()]);
 * console.log(idx.sort()); // [ 0, 1 ]
 * ```
 */
export class Barrier {
  /** @internal */ readonly _w: Int32Array;

  constructor(parties: number) {
    checkCount(parties, "Barrier", "parties", 1);
    this._w = newWords();
    this._w[C] = parties;
  }

  /**
   * Re-attaches to a barrier made in another thread, from its {@link Barrier.handle}.
   * @example
   * ```ts
   * import { Barrier } from "tsaio/threading";
   * console.log(Barrier.from(new Barrier(3).handle).parties); // 3
   * ```
   */
  static from(handle: Handle): Barrier {
    return attach(Barrier.prototype, handle, "Barrier", "Barrier.from");
  }

  /** A plain, structured-cloneable description, for {@link Barrier.from} in another thread. */
  get handle(): Handle {
    return handleOf("Barrier", this._w);
  }

  /** How many callers must arrive. */
  get parties(): number {
    return Atomics.load(this._w, C);
  }

  /** How many are waiting now. */
  get nWaiting(): number {
    return Atomics.load(this._w, STATE);
  }

  /** Whether it is broken (until `reset()`). */
  get broken(): boolean {
    return Atomics.load(this._w, B) !== 0;
  }

  /** @internal Arrives: returns `[index, null]`, or `[-1, waitOp]` to wait on. Throws if broken. */
  private _arrive(): [number, BarrierWait | null] {
    const w = this._w;
    lockSpin(w);
    if (w[B] !== 0) {
      unlockSpin(w);
      throw new BrokenBarrierError("Barrier.wait(): the barrier is broken");
    }
    const g = w[A];
    const index = w[STATE];
    if (index + 1 === w[C]) {
      endGeneration(w, PASSED);
      unlockSpin(w);
      wake(w);
      return [index, null];
    }
    Atomics.store(w, STATE, index + 1);
    unlockSpin(w);
    return [index, new BarrierWait(w, g, index)];
  }

  /** Waits until all parties arrived; resolves to this caller's arrival index. A cancellation point. */
  wait(options?: WaitOptions): Promise<number> {
    throwAtCall();
    const { signal, deadline } = waitOptions(options, "Barrier.wait");
    if (signal?.aborted === true) return abortedNow(signal);
    const [index, op] = this._arrive();
    if (op === null) return Promise.resolve(index);
    return keptOrPassedOn(waitAsync(this, this._w, op, deadline, signal), op);
  }

  /** Worker threads only: {@link Barrier.wait}, blocking the thread. */
  waitSync(timeout?: number | null): number {
    checkMayBlock("Barrier.waitSync()", "barrier.wait()");
    const deadline = deadlineOf(timeout, "Barrier.waitSync");
    const [index, op] = this._arrive();
    if (op === null) return index;
    return blockUntil(this._w, op, deadline);
  }

  /** Breaks the barrier: current and later waiters get `BrokenBarrierError` until `reset()`. */
  abort(): void {
    const w = this._w;
    lockSpin(w);
    Atomics.store(w, B, 1);
    if (w[STATE] > 0) endGeneration(w, BROKEN);
    unlockSpin(w);
    wake(w);
  }

  /** Back to the initial state; current waiters get `BrokenBarrierError`. */
  reset(): void {
    const w = this._w;
    lockSpin(w);
    if (w[STATE] > 0) endGeneration(w, BROKEN);
    Atomics.store(w, B, 0);
    unlockSpin(w);
    wake(w);
  }

  /** @internal */
  [WIRE](): WireForm {
    return { $tsaioShared: URL_, h: this.handle };
  }

  /** @internal */
  [inspect.custom](): string {
    return `<threading.Barrier ${this.broken ? "broken" : "filling"} waiters=${this.nWaiting}/${this.parties}>`;
  }
}

function checkBroken(r: number): number {
  if (r === FAILED) throw new BrokenBarrierError("Barrier.wait(): the barrier was broken (abort(), reset() or a timeout) while waiting");
  return r;
}

registerReviver(URL_, (h) => Barrier.from(h));
