/**
 * The per-worker record of jobs in flight. (The pool's job queue is the shared `Deque` of
 * internal/ring.ts.)
 * @internal
 * @module
 */

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
