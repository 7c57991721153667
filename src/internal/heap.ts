/**
 * A binary min-heap of timers ordered by (when, seq). `seq` makes equal deadlines fire in the order
 * they were scheduled: asyncio leaves that order undefined, tsaio makes it FIFO so runs are repeatable.
 * Cancelled timers stay in place (lazy deletion, as asyncio does) and are skipped when they surface;
 * the loop compacts the heap when they become the majority.
 * @internal
 */
export interface HeapItem {
  _when: number;
  _seq: number;
  _cancelled: boolean;
}

function less(a: HeapItem, b: HeapItem): boolean {
  return a._when < b._when || (a._when === b._when && a._seq < b._seq);
}

export class TimerHeap<T extends HeapItem> {
  items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const a = this.items;
    let i = a.length;
    a.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = a[p]!;
      if (!less(item, parent)) break;
      a[i] = parent;
      i = p;
    }
    a[i] = item;
  }

  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      let i = 0;
      const n = a.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && less(a[r]!, a[l]!) ? r : l;
        if (!less(a[c]!, last)) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }

  /** Drops every cancelled item and restores the heap order in O(n) (Floyd's heapify, no sort). */
  compact(): void {
    const a = this.items.filter((t) => !t._cancelled);
    this.items = a;
    for (let i = (a.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private siftDown(start: number): void {
    const a = this.items;
    const n = a.length;
    const item = a[start]!;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && less(a[r]!, a[l]!) ? r : l;
      if (!less(a[c]!, item)) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = item;
  }

  clear(): void {
    this.items = [];
  }
}
