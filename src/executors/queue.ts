/**
 * The two job lists: the executor's queue of jobs waiting for a worker ({@link JobQueue}), and each
 * worker's record of the jobs it holds ({@link Inflight}).
 * Internal: not part of the package's public API.
 * @module
 */
import { Deque } from "../internal/ring.js";
import { QUEUED, type ExecutorFuture } from "./future.js";

type Job = ExecutorFuture<unknown>;

/**
 * The jobs waiting for a worker, oldest first. A job cancelled while queued is only counted out
 * (`dropped`): it stays in the deque until reached, and is skipped then (removing it from the middle
 * would cost O(n) per cancel).
 * @internal
 */
export class JobQueue {
  private readonly _deque = new Deque<Job>();
  private _live = 0;

  /** Jobs waiting (cancelled ones not counted). */
  get size(): number {
    return this._live;
  }

  push(job: Job): void {
    this._deque.push(job);
    this._live++;
  }

  /** Puts jobs handed back by a worker at the front, in their order. */
  putFront(jobs: readonly Job[]): void {
    for (let i = jobs.length - 1; i >= 0; i--) {
      this._deque.unshift(jobs[i]);
      this._live++;
    }
  }

  /** The oldest waiting job, or undefined. */
  take(): Job | undefined {
    if (this._live === 0) return undefined;
    let job = this._deque.shift();
    while (job !== undefined && job._job !== QUEUED) job = this._deque.shift();
    if (job === undefined) this._live = 0;
    else this._live--;
    return job;
  }

  /** A queued job left the queue by itself (it was cancelled or settled). */
  dropped(): void {
    this._live--;
  }

  /** Empties the queue; returns the jobs that were waiting. */
  takeAll(): Job[] {
    const out: Job[] = [];
    this._deque.forEach((j) => {
      if (j._job === QUEUED) out.push(j);
    });
    this._deque.clear();
    this._live = 0;
    return out;
  }

  /** The jobs waiting (a snapshot). */
  waiting(): Job[] {
    const out: Job[] = [];
    this._deque.forEach((j) => {
      if (j._job === QUEUED) out.push(j);
    });
    return out;
  }
}

/**
 * The jobs a worker holds, in send order. Outcomes arrive almost always in that order, so lookups
 * start at the oldest entry and removals are O(1) pops; the rare out-of-order removal (a job
 * dropped by a cancel) leaves a hole that is skipped. (A Map that swings between 0 and 1 entries
 * on every job rehashes and allocates on the hot path; this does not.)
 * @internal
 */
export class Inflight<T extends { readonly _seq: number }> {
  private buf: (T | undefined)[];
  private mask: number;
  private head = 0;
  /** Slots from head to tail, holes included. */
  private span = 0;
  /** Live entries. */
  size = 0;

  constructor(capacity = 8) {
    this.buf = new Array<T | undefined>(capacity);
    this.mask = capacity - 1;
  }

  set(_seq: number, v: T): void {
    if (this.span > this.mask) this.grow();
    this.buf[(this.head + this.span) & this.mask] = v;
    this.span++;
    this.size++;
  }

  get(seq: number): T | undefined {
    const { buf, mask } = this;
    for (let k = 0; k < this.span; k++) {
      const v = buf[(this.head + k) & mask];
      if (v !== undefined && v._seq === seq) return v;
    }
    return undefined;
  }

  delete(seq: number): boolean {
    const { buf, mask } = this;
    for (let k = 0; k < this.span; k++) {
      const i = (this.head + k) & mask;
      const v = buf[i];
      if (v !== undefined && v._seq === seq) {
        buf[i] = undefined;
        this.size--;
        if (k === 0) {
          // Pop the head and any holes behind it.
          do {
            this.head = (this.head + 1) & mask;
            this.span--;
          } while (this.span > 0 && buf[this.head] === undefined);
        }
        if (this.size === 0) {
          this.head = 0;
          this.span = 0;
        }
        return true;
      }
    }
    return false;
  }

  /** The live entries, oldest first (a snapshot). */
  values(): T[] {
    const out: T[] = [];
    for (let k = 0; k < this.span; k++) {
      const v = this.buf[(this.head + k) & this.mask];
      if (v !== undefined) out.push(v);
    }
    return out;
  }

  clear(): void {
    this.buf.fill(undefined);
    this.head = this.span = this.size = 0;
  }

  private grow(): void {
    const old = this.buf;
    const n = old.length;
    const next = new Array<T | undefined>(n * 2);
    for (let k = 0; k < this.span; k++) next[k] = old[(this.head + k) & this.mask];
    this.buf = next;
    this.mask = n * 2 - 1;
    this.head = 0;
  }
}
