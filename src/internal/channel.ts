/**
 * A minimal bounded channel for the iteration stages: `put` waits while full, `get` waits while
 * empty, `close(error?)` ends it. Waiters are tsaio Futures, so every wait is a cancellation point.
 * @internal
 */
import { inspect } from "node:util";
import { Future, WaiterFuture } from "../futures.js";
import type { Loop } from "../loop.js";
import { Deque } from "./ring.js";

export const CLOSED: unique symbol = Symbol("closed");

/** Wakes the first waiter that is still waiting (cancelled ones are skipped: no lost wake-up). */
export function wakeFirst(waiters: Deque<Future<void>>): void {
  while (waiters.length > 0) {
    const f = waiters.shift() as Future<void>;
    if (!f.done()) {
      f.setResult();
      return;
    }
  }
}

export class Channel<T> {
  private readonly items = new Deque<T>();
  private readonly getters = new Deque<Future<void>>();
  private readonly putters = new Deque<Future<void>>();
  private closed = false;
  private error: { e: unknown } | null = null;

  constructor(
    private readonly loop: Loop,
    private readonly capacity: number,
  ) {}

  get size(): number {
    return this.items.length;
  }

  /** Waits for room, then adds `v`. Returns false if the channel was closed meanwhile. */
  async put(v: T): Promise<boolean> {
    while (!this.closed && this.items.length >= this.capacity) {
      const w = new WaiterFuture<void>(this.loop, this);
      this.putters.push(w);
      try {
        await w;
      } catch (e) {
        // Woken and cancelled at once: pass the wake-up on, or the room is lost to the others.
        if (w.done() && !w.cancelled() && this.items.length < this.capacity) this.wake(this.putters);
        throw e;
      }
    }
    if (this.closed) return false;
    this.items.push(v);
    this.wake(this.getters);
    return true;
  }

  /** The next item, or CLOSED once closed and drained; rethrows the error given to `close`. */
  async get(): Promise<T | typeof CLOSED> {
    while (this.items.length === 0) {
      if (this.closed) {
        if (this.error !== null) throw this.error.e;
        return CLOSED;
      }
      const w = new WaiterFuture<void>(this.loop, this);
      this.getters.push(w);
      try {
        await w;
      } catch (e) {
        if (w.done() && !w.cancelled() && this.items.length > 0) this.wake(this.getters);
        throw e;
      }
    }
    const v = this.items.shift() as T;
    this.wake(this.putters);
    return v;
  }

  /** Ends the channel; readers drain what is buffered, then get CLOSED (or `error`). */
  close(error?: { e: unknown }): void {
    if (this.closed) return;
    this.closed = true;
    if (error !== undefined) this.error = error;
    while (this.getters.length > 0) this.wake(this.getters);
    while (this.putters.length > 0) this.wake(this.putters);
  }

  private wake(waiters: Deque<Future<void>>): void {
    wakeFirst(waiters);
  }

  [inspect.custom](): string {
    return `<Channel ${this.closed ? "closed" : "open"} items=${this.items.length}/${this.capacity}>`;
  }
}
