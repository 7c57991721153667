/**
 * A minimal bounded channel for the iteration stages: `put` waits while full, `get` waits while
 * empty, `close(error?)` ends it. Its waiters are the primitives' (`waiters.ts`), so every wait is a
 * cancellation point, and a waiter woken but cancelled before it ran passes the wake-up on.
 * Internal: not part of the package's public API.
 * @module
 */
import { inspect } from "node:util";
import { type DescribeOptions, FULL } from "./internal/describe.js";
import { Deque } from "./internal/ring.js";
import type { Loop } from "./loop.js";
import { type Waiter, WaiterList } from "./waiters.js";

export const CLOSED: unique symbol = Symbol("closed");

export class Channel<T> {
  /** @internal */ readonly _items = new Deque<T>();
  /** @internal */
  private readonly _getters: WaiterList;
  /** @internal */
  private readonly _putters: WaiterList;
  /** @internal */
  private _closed = false;
  /** @internal */
  private _error: { e: unknown } | null = null;

  constructor(
    /** @internal */
    private readonly _loop: Loop,
    /** @internal */ readonly _capacity: number,
  ) {
    this._getters = new WaiterList(this, getterResume);
    this._putters = new WaiterList(this, putterResume);
  }

  get size(): number {
    return this._items.length;
  }

  /** Waits for room, then adds `v`. Returns false if the channel was closed meanwhile. */
  async put(v: T): Promise<boolean> {
    while (!this._closed && this._items.length >= this._capacity) await this._putters.add(this._loop, undefined);
    if (this._closed) return false;
    this._items.push(v);
    this._getters.wakeNext(undefined);
    return true;
  }

  /** The next item, or CLOSED once closed and drained; rethrows the error given to `close`. */
  async get(): Promise<T | typeof CLOSED> {
    while (this._items.length === 0) {
      if (this._closed) {
        if (this._error !== null) throw this._error.e;
        return CLOSED;
      }
      await this._getters.add(this._loop, undefined);
    }
    const v = this._items.shift() as T;
    this._putters.wakeNext(undefined);
    return v;
  }

  /** Ends the channel; readers drain what is buffered, then get CLOSED (or `error`). */
  close(error?: { e: unknown }): void {
    if (this._closed) return;
    this._closed = true;
    if (error !== undefined) this._error = error;
    this._getters.wakeAll(undefined);
    this._putters.wakeAll(undefined);
  }

  /** @internal Its describer (see internal/describe.ts); `util.inspect` shows it. */
  _describe(_o: DescribeOptions): string {
    return `<Channel ${this._closed ? "closed" : "open"} items=${this._items.length}/${this._capacity}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}

/** The end of a `put` wait: a putter woken for room but cancelled before it ran passes the room on. */
function putterResume(w: Waiter, failed: boolean, err: unknown): void {
  const ch = w._list.owner as Channel<unknown>;
  w._list.remove(w);
  if (!failed) w._res(undefined);
  else {
    if (w.woken() && ch._items.length < ch._capacity) w._list.wakeNext(undefined);
    w._rej(err);
  }
}

/** The end of a `get` wait: a getter woken for an item but cancelled before it ran passes it on. */
function getterResume(w: Waiter, failed: boolean, err: unknown): void {
  const ch = w._list.owner as Channel<unknown>;
  w._list.remove(w);
  if (!failed) w._res(undefined);
  else {
    if (w.woken() && ch._items.length > 0) w._list.wakeNext(undefined);
    w._rej(err);
  }
}
