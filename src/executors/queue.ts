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
  private _buf: (T | undefined)[];
  private _mask: number;
  private _head = 0;
  /** Slots from head to tail, holes included. */
  private _span = 0;
  /** Live entries. */
  size = 0;

  constructor(capacity = 8) {
    this._buf = new Array<T | undefined>(capacity);
    this._mask = capacity - 1;
  }

  set(_seq: number, v: T): void {
    if (this._span > this._mask) this._grow();
    this._buf[(this._head + this._span) & this._mask] = v;
    this._span++;
    this.size++;
  }

  get(seq: number): T | undefined {
    const { _buf, _mask } = this;
    for (let k = 0; k < this._span; k++) {
      const v = _buf[(this._head + k) & _mask];
      if (v !== undefined && v._seq === seq) return v;
    }
    return undefined;
  }

  delete(seq: number): boolean {
    const { _buf, _mask } = this;
    for (let k = 0; k < this._span; k++) {
      const i = (this._head + k) & _mask;
      const v = _buf[i];
      if (v !== undefined && v._seq === seq) {
        _buf[i] = undefined;
        this.size--;
        if (k === 0) {
          // Pop the head and any holes behind it.
          do {
            this._head = (this._head + 1) & _mask;
            this._span--;
          } while (this._span > 0 && _buf[this._head] === undefined);
        }
        if (this.size === 0) {
          this._head = 0;
          this._span = 0;
        }
        return true;
      }
    }
    return false;
  }

  /** The live entries, oldest first (a snapshot). */
  values(): T[] {
    const out: T[] = [];
    for (let k = 0; k < this._span; k++) {
      const v = this._buf[(this._head + k) & this._mask];
      if (v !== undefined) out.push(v);
    }
    return out;
  }

  clear(): void {
    this._buf.fill(undefined);
    this._head = this._span = this.size = 0;
  }

  private _grow(): void {
    const old = this._buf;
    const n = old.length;
    const next = new Array<T | undefined>(n * 2);
    for (let k = 0; k < this._span; k++) next[k] = old[(this._head + k) & this._mask];
    this._buf = next;
    this._mask = n * 2 - 1;
    this._head = 0;
  }
}
