/**
 * A growable double-ended queue (ring buffer) of jobs: O(1) at both ends, so that jobs handed back
 * by a dead worker go back to the front in their original order.
 * @internal
 * @module
 */
export class Deque<T> {
  private buf: (T | undefined)[];
  private mask: number;
  private head = 0;
  /** Number of slots in use (including entries the owner treats as dead). */
  length = 0;

  constructor(capacity = 64) {
    this.buf = new Array<T | undefined>(capacity);
    this.mask = capacity - 1;
  }

  push(v: T): void {
    if (this.length > this.mask) this.grow();
    this.buf[(this.head + this.length) & this.mask] = v;
    this.length++;
  }

  unshift(v: T): void {
    if (this.length > this.mask) this.grow();
    this.head = (this.head - 1) & this.mask;
    this.buf[this.head] = v;
    this.length++;
  }

  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const v = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.length--;
    return v;
  }

  /** Visits every entry, oldest first. */
  forEach(visit: (v: T) => void): void {
    for (let k = 0; k < this.length; k++) visit(this.buf[(this.head + k) & this.mask] as T);
  }

  clear(): void {
    this.buf.fill(undefined);
    this.head = 0;
    this.length = 0;
  }

  private grow(): void {
    const old = this.buf;
    const n = old.length;
    const next = new Array<T | undefined>(n * 2);
    for (let k = 0; k < this.length; k++) next[k] = old[(this.head + k) & this.mask];
    this.buf = next;
    this.mask = n * 2 - 1;
    this.head = 0;
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
