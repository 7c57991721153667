/**
 * `Event` across threads: STATE is the flag; `set()` raises it, bumps SEQ and wakes every sleeper.
 * A waiter remembers SEQ when it starts and returns once the flag is up *or* SEQ moved — so a
 * `set()` followed at once by `clear()` still releases everyone who was waiting (as in Python).
 * @module
 */
import { inspect } from "node:util";
import {
  attach,
  blockUntil,
  checkMayBlock,
  deadlineOf,
  type Handle,
  handleOf,
  newWords,
  NOT_YET,
  registerReviver,
  SEQ,
  STATE,
  wake,
  type WaitOp,
  type WaitOptions,
  waitUnlessReady,
  WIRE,
  type WireForm,
} from "./shared.js";

const URL_ = import.meta.url;

class EventWait implements WaitOp<boolean> {
  private readonly _seq: number;
  constructor(private readonly w: Int32Array) {
    this._seq = Atomics.load(w, SEQ);
  }
  attempt(): boolean | typeof NOT_YET {
    return Atomics.load(this.w, STATE) !== 0 || Atomics.load(this.w, SEQ) !== this._seq ? true : NOT_YET;
  }
  giveUp(): boolean {
    return false;
  }
}

const isSet = (e: Event): boolean => e.isSet();
const eventWait = (e: Event): EventWait => new EventWait(e._w);

/**
 * A flag threads and tasks wait for, Python's `threading.Event`: `set()` wakes every waiter in every
 * thread; `clear()` makes later waits block again. `await wait()` anywhere (a cancellation point),
 * `waitSync()` in workers.
 * @example
 * ```ts
 * import { Event } from "tsaio/threading";
 * const ready = new Event();
 * setTimeout(() => ready.set(), 5);
 * console.log(await ready.wait(), ready.isSet()); // true true
 * ready.clear();
 * console.log(await ready.wait({ timeout: 5 })); // false
 * ```
 */
export class Event {
  /** @internal */ readonly _w: Int32Array;

  constructor() {
    this._w = newWords();
  }

  /**
   * Re-attaches to an event made in another thread, from its {@link Event.handle}.
   * @example
   * ```ts
   * import { Event } from "tsaio/threading";
   * const e = new Event();
   * Event.from(e.handle).set();
   * console.log(e.isSet()); // true
   * ```
   */
  static from(handle: Handle): Event {
    return attach(Event.prototype, handle, "Event", "Event.from");
  }

  /** A plain, structured-cloneable description, for {@link Event.from} in another thread. */
  get handle(): Handle {
    return handleOf("Event", this._w);
  }

  /** Whether the flag is set. */
  isSet(): boolean {
    return Atomics.load(this._w, STATE) !== 0;
  }

  /** Sets the flag and wakes every waiter, in every thread. */
  set(): void {
    Atomics.store(this._w, STATE, 1);
    wake(this._w);
  }

  /** Clears the flag. */
  clear(): void {
    Atomics.store(this._w, STATE, 0);
  }

  /** Waits until the flag is set: `true`, or `false` after `timeout` ms. A cancellation point. */
  wait(options?: WaitOptions): Promise<boolean> {
    return waitUnlessReady(this, options, "Event.wait", isSet, eventWait);
  }

  /** Worker threads only: blocks until the flag is set (`true`) or `timeout` ms pass (`false`). */
  waitSync(timeout?: number | null): boolean {
    checkMayBlock("Event.waitSync()", "event.wait()");
    if (this.isSet()) return true;
    return blockUntil(this._w, new EventWait(this._w), deadlineOf(timeout, "Event.waitSync"));
  }

  /** @internal */
  [WIRE](): WireForm {
    return { $tsaioShared: URL_, h: this.handle };
  }

  /** @internal */
  [inspect.custom](): string {
    return `<threading.Event ${this.isSet() ? "set" : "unset"}>`;
  }
}

registerReviver(URL_, (h) => Event.from(h));
