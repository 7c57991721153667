import { Deque } from "./ring.js";

/**
 * Timer ordering: (when, seq). `seq` makes equal deadlines fire in the order they were scheduled:
 * asyncio leaves that order undefined, tsaio makes it FIFO so runs are repeatable.
 */
export interface HeapItem {
  /** @internal */
  _when: number;
  /** @internal */
  _seq: number;
  /** @internal */
  _cancelled: boolean;
}

function less(a: HeapItem, b: HeapItem): boolean {
  return a._when < b._when || (a._when === b._when && a._seq < b._seq);
}

/**
 * A run of timers armed with the same delay: since the clock only moves forward, they are due in the
 * order they were armed, so a FIFO keeps them sorted. The queue's heap orders runs by their head.
 */
class Run<T extends HeapItem> {
  readonly q: Deque<T>;
  /** Index in the heap, -1 when the run is empty (and out of the heap). */
  pos = -1;
  constructor(readonly delay: number | null) {
    this.q = new Deque<T>(delay === null ? 1 : 8);
  }
}

/** Empty runs kept for reuse (a task sleeping the same delay in a loop) until there are this many. */
const KEEP_RUNS = 256;

/**
 * The loop's timers: a min-heap of *runs* ordered by (when, seq), as {@link TimerHeap} orders timers.
 * Node's own timers group by duration for the same reason: 200,000 sleeps of 1–50 ms make 50 runs,
 * so arming and firing a timer is an O(1) append/shift on a FIFO plus an O(log runs) sift, instead
 * of O(log timers) sifts through a heap far larger than the CPU cache. A timer armed at an absolute
 * time (`callAt`) is a run of its own. Cancelled timers stay in place (lazy deletion) until they
 * surface or `compact()` drops them.
 * @internal
 */
export class TimerQueue<T extends HeapItem> {
  private _heap: Run<T>[] = [];
  private readonly _byDelay = new Map<number, Run<T>>();
  size = 0;

  peek(): T | undefined {
    const r = this._heap[0];
    return r === undefined ? undefined : r.q.peek();
  }

  /** Adds a timer due at `item._when`; `delay` (ms from now) groups it with the timers of that delay. */
  push(item: T, delay: number | null = null): void {
    this.size++;
    if (delay !== null) {
      let run = this._byDelay.get(delay);
      if (run === undefined) this._byDelay.set(delay, (run = new Run<T>(delay)));
      const q = run.q;
      if (q.length > 0) {
        // Due after everything in the run (the clock never goes back): the run's order holds and
        // its head, hence its heap position, is unchanged.
        if (!less(item, q.tail() as T)) {
          q.push(item);
          return;
        }
      } else {
        q.push(item);
        this._insert(run);
        return;
      }
    }
    const single = new Run<T>(null);
    single.q.push(item);
    this._insert(single);
  }

  pop(): T | undefined {
    const run = this._heap[0];
    if (run === undefined) return undefined;
    const item = run.q.shift() as T;
    this.size--;
    if (run.q.length > 0) this._siftDown(0);
    else this._removeTop(run);
    return item;
  }

  /** Drops every cancelled timer and rebuilds the heap in O(n). */
  compact(): void {
    const kept: Run<T>[] = [];
    let size = 0;
    for (const run of this._heap) {
      run.q.retain(live);
      if (run.q.length > 0) {
        kept.push(run);
        size += run.q.length;
      } else this._forget(run);
    }
    this._heap = kept;
    this.size = size;
    for (let i = 0; i < kept.length; i++) kept[i]!.pos = i;
    for (let i = (kept.length >> 1) - 1; i >= 0; i--) this._siftDown(i);
  }

  clear(): void {
    this._heap = [];
    this._byDelay.clear();
    this.size = 0;
  }

  private _insert(run: Run<T>): void {
    const h = this._heap;
    run.pos = h.length;
    h.push(run);
    this._siftUp(run.pos);
  }

  private _removeTop(run: Run<T>): void {
    this._forget(run);
    const h = this._heap;
    const last = h.pop() as Run<T>;
    if (last !== run) {
      h[0] = last;
      last.pos = 0;
      this._siftDown(0);
    }
  }

  /** An empty run leaves the heap; past KEEP_RUNS delays, its delay's entry goes too (one-off delays). */
  private _forget(run: Run<T>): void {
    run.pos = -1;
    if (run.delay !== null && this._byDelay.size > KEEP_RUNS && this._byDelay.get(run.delay) === run) this._byDelay.delete(run.delay);
  }

  private _siftUp(start: number): void {
    const h = this._heap;
    const run = h[start]!;
    const head = run.q.peek() as T;
    let i = start;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (!less(head, parent.q.peek() as T)) break;
      h[i] = parent;
      parent.pos = i;
      i = p;
    }
    h[i] = run;
    run.pos = i;
  }

  private _siftDown(start: number): void {
    const h = this._heap;
    const n = h.length;
    const run = h[start]!;
    const head = run.q.peek() as T;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && less(h[r]!.q.peek() as T, h[l]!.q.peek() as T) ? r : l;
      const child = h[c]!;
      if (!less(child.q.peek() as T, head)) break;
      h[i] = child;
      child.pos = i;
      i = c;
    }
    h[i] = run;
    run.pos = i;
  }
}

function live(t: HeapItem): boolean {
  return !t._cancelled;
}
