/**
 * The floors: the least a FIFO async lock, a concurrency limiter and a bounded queue can do in plain
 * JavaScript (resolvers in arrays with head indices), hand-written so that every library, tsaio
 * included, is measured against what the platform itself costs.
 * @module
 */

const RESOLVED = Promise.resolve();

/** The least a FIFO async lock can do: a flag and a queue of resolvers (hand-off on release). */
export class HandLock {
  private locked = false;
  private q: ((() => void) | undefined)[] = [];
  private head = 0;
  acquire(): Promise<void> {
    if (!this.locked) {
      this.locked = true;
      return RESOLVED;
    }
    return new Promise<void>((r) => this.q.push(r));
  }
  release(): void {
    if (this.head < this.q.length) {
      const r = this.q[this.head] as () => void;
      this.q[this.head++] = undefined;
      if (this.head > 1024 && this.head * 2 > this.q.length) {
        this.q = this.q.slice(this.head);
        this.head = 0;
      }
      r(); // hand the lock over: it stays locked
    } else this.locked = false;
  }
}

/** A hand-written concurrency limiter (what p-limit does, minus the options). */
export function handLimit(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  let q: ((() => void) | undefined)[] = [];
  let head = 0;
  const next = (): void => {
    active--;
    if (head < q.length) {
      const f = q[head] as () => void;
      q[head++] = undefined;
      if (head > 1024 && head * 2 > q.length) {
        q = q.slice(head);
        head = 0;
      }
      f();
    }
  };
  return <T>(fn: () => Promise<T>): Promise<T> =>
    new Promise<T>((res, rej) => {
      const go = (): void => {
        active++;
        fn().then(res, rej).finally(next);
      };
      if (active < n) go();
      else q.push(go);
    });
}

/** A hand-written bounded async queue: arrays with head indices, resolvers as waiters. */
export class HandQueue<T> {
  private items: (T | undefined)[] = [];
  private ih = 0;
  private getters: ((v: T) => void)[] = [];
  private putters: (() => void)[] = [];
  constructor(private readonly max: number) {}
  private size(): number {
    return this.items.length - this.ih;
  }
  put(v: T): Promise<void> {
    const g = this.getters.shift();
    if (g !== undefined) {
      g(v);
      return RESOLVED;
    }
    if (this.size() < this.max) {
      this.items.push(v);
      return RESOLVED;
    }
    return new Promise<void>((r) => this.putters.push(r)).then(() => this.put(v));
  }
  get(): Promise<T> {
    if (this.size() > 0) {
      const v = this.items[this.ih] as T;
      this.items[this.ih++] = undefined;
      if (this.ih > 1024 && this.ih * 2 > this.items.length) {
        this.items = this.items.slice(this.ih);
        this.ih = 0;
      }
      const p = this.putters.shift();
      if (p !== undefined) p();
      return Promise.resolve(v);
    }
    return new Promise<T>((r) => this.getters.push(r));
  }
}
