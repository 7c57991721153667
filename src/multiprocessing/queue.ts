/**
 * tsaio/multiprocessing's `Queue`: process-safe, multi-producer multi-consumer, bounded or not.
 *
 * ## Design
 * The queue lives in the process (thread) that made it: its *owner* keeps the items (encoded at
 * `put` with tsaio/threading's codec — structured-clone semantics — so an item that cannot be
 * cloned fails the put, at the producer)
 * and every waiting `get` and `put` in one FIFO each. Given to a job (thread or process pool) or a
 * Process, the queue travels as an address and key on its owner's hub (connection.ts); the copy
 * there is a *client* whose operations are requests on one socket to the owner (`get` sends a
 * request and waits for an item; concurrent requests share the socket and its write batches).
 *
 * ## Guarantees
 * - `put` resolves once the owner holds the item: an item whose `put` returned is never lost while
 *   the owner lives (a client that dies afterwards loses nothing).
 * - An item sent to a client's `get` stays the owner's until the client acknowledges it (it does on
 *   receipt, before `get` resolves). A client that dies or disconnects first, or whose `get` was
 *   cancelled or timed out meanwhile, gives it back at the head of the queue. So no item is lost to
 *   a dying consumer; the price is that one it received just before being killed may be delivered
 *   again (at least once).
 * - Every wait is a tsaio cancellation point with `{ signal, timeout }`; timeouts of a client's
 *   requests run at the owner, so a timed-out `put` never lands. A client's `put` *cancelled* while
 *   it waits for room may still land (the cancel races with the owner taking it).
 * - When the owner closes the queue or dies, every waiting client call rejects with `EOFError`
 *   (never hangs), and later calls too.
 * @module
 */
import { inspect } from "node:util";
import { InvalidStateError, QueueEmpty, QueueFull } from "../errors.js";
import { throwAtCall } from "../futures.js";
import { decode as deserialize, encode } from "../threading/codec.js";
import { Deque } from "../internal/ring.js";
import { type DescribeOptions, FULL, show } from "../internal/describe.js";
import { describe as describeValue } from "../internal/validate.js";
import { connectRoute, EOFError, hub, type SocketLink } from "./connection.js";
import { abortedNow, checkWait, IoWait, type WaitOptions } from "./wait.js";
import { registerReviver, WIRE, type ProcessWire } from "./wire.js";

// Requests (client → owner) and replies (owner → client): [op u8][id u32][…].
const PUT = 1; // [timeout f64][item]   timeout: -1 none, 0 now
const GET = 2; // [timeout f64]
const ACK = 3;
const NACK = 4;
const CANCEL = 5;
const SIZE = 6;
const OK = 10;
const ITEM = 11; // [item]
const IS_FULL = 12;
const IS_EMPTY = 13;
const N = 14; // [count u32]

function frame(op: number, id: number, extra = 0): Buffer {
  const b = Buffer.allocUnsafe(5 + extra);
  b[0] = op;
  b.writeUInt32LE(id, 1);
  return b;
}

/** @internal The wire form of a Queue: where its owner serves it. */
export interface QueueHandle {
  kind: "Queue";
  address: string;
  key: string;
  route: string;
  maxsize: number;
}

/** A client's link to the owner, as the owner sees it. */
interface Client {
  link: SocketLink;
  /** Items sent to it and not acknowledged yet, by request id. */
  unacked: Map<number, Buffer>;
  /** Its requests still waiting, by id. */
  waiting: Map<number, Pending>;
  gone: boolean;
}

/** A waiting get or put: a local wait, or a client's request. */
interface Pending {
  local: IoWait<unknown> | null;
  client: Client | null;
  id: number;
  /** A put's item. */
  item: Buffer | null;
  live: boolean;
  timer: NodeJS.Timeout | null;
}

/**
 * A process-safe queue (Python's `multiprocessing.Queue`): several producers and consumers, in
 * this process, in pool workers (threads or processes) and Processes, all see one FIFO. Items are
 * structured-cloned. `maxsize` > 0 bounds it (`put` waits for room). Every wait takes `{ signal,
 * timeout }`; `get` with a timeout throws `QueueEmpty`, `put` `QueueFull`. Give it to a job as an
 * argument (`pool.submit(fn, queue)`): it arrives there as a working Queue. Operations are async in
 * every process (`await q.qsize()`), since the items live in the process that made the queue; see
 * the module notes for what survives a killed process.
 * @example
 * ```ts
 * import { Queue } from "tsaio/multiprocessing";
 * const q = new Queue<string>(2);
 * await q.put("a");
 * await q.putNowait("b");
 * console.log(await q.get(), await q.qsize(), await q.full()); // a 1 false
 * q.close();
 * ```
 */
export class Queue<T = unknown> implements AsyncDisposable {
  /** @internal Owner: the items. */
  readonly _items = new Deque<Buffer>();
  /** @internal Owner: waiting gets and puts, FIFO. */
  readonly _getters = new Deque<Pending>();
  /** @internal */ readonly _putters = new Deque<Pending>();
  /** @internal */ readonly _maxsize: number;
  /** @internal Owner: clients connected. */
  readonly _clients = new Set<Client>();
  /** @internal Owner: its hub route (null until first passed). */
  _route: string | null = null;
  /** @internal Client side: the link to the owner, or null on the owner. */
  _remote: RemoteLink | null = null;
  /** @internal */ _closed = false;

  constructor(maxsize = 0) {
    if (typeof maxsize !== "number" || !Number.isSafeInteger(maxsize)) throw new TypeError(`Queue: \`maxsize\` must be an integer, got ${describeValue(maxsize)}`);
    if (maxsize < 0) throw new RangeError(`Queue: \`maxsize\` must be >= 0 (0: unbounded), got ${maxsize}`);
    this._maxsize = maxsize;
  }

  /** The bound given to the constructor (0: none). */
  get maxsize(): number {
    return this._maxsize;
  }

  /**
   * Adds `item`, waiting for room in a bounded queue (`QueueFull` after `timeout` ms). Resolves
   * once the queue's owner holds it. An item that cannot be cloned throws a `TypeError` here.
   * @example
   * ```ts
   * import { Queue } from "tsaio/multiprocessing";
   * import { QueueFull } from "tsaio";
   * const q = new Queue<number>(1);
   * await q.put(1);
   * try { await q.put(2, { timeout: 10 }); } catch (e) { console.log(e instanceof QueueFull); } // true
   * ```
   */
  put(item: T, options?: WaitOptions): Promise<void> {
    throwAtCall();
    const { signal, timeout } = checkWait(options, "Queue.put");
    const bytes = this._encode(item, "put");
    if (signal?.aborted === true) return abortedNow(signal);
    return this._put(bytes, timeout, signal, "put") as Promise<void>;
  }

  /**
   * Adds `item` if there is room now, else rejects with `QueueFull`.
   * @example
   * ```ts
   * import { Queue } from "tsaio/multiprocessing";
   * const q = new Queue(1);
   * await q.putNowait("x");
   * console.log(await q.putNowait("y").catch((e: Error) => e.name)); // QueueFull
   * ```
   */
  putNowait(item: T): Promise<void> {
    throwAtCall();
    const bytes = this._encode(item, "putNowait");
    return this._put(bytes, 0, undefined, "putNowait") as Promise<void>;
  }

  /**
   * Removes and returns the oldest item, waiting for one (`QueueEmpty` after `timeout` ms).
   * @example
   * ```ts
   * import { Queue } from "tsaio/multiprocessing";
   * const q = new Queue<{ id: number }>();
   * setTimeout(() => void q.put({ id: 7 }), 5);
   * console.log(await q.get({ timeout: 5_000 })); // { id: 7 }
   * ```
   */
  get(options?: WaitOptions): Promise<T> {
    throwAtCall();
    const { signal, timeout } = checkWait(options, "Queue.get");
    if (signal?.aborted === true) return abortedNow(signal);
    return this._get(timeout, signal, "get") as Promise<T>;
  }

  /**
   * Removes and returns the oldest item if there is one now, else rejects with `QueueEmpty`.
   * @example
   * ```ts
   * import { Queue } from "tsaio/multiprocessing";
   * const q = new Queue();
   * console.log(await q.getNowait().catch((e: Error) => e.name)); // QueueEmpty
   * ```
   */
  getNowait(): Promise<T> {
    throwAtCall();
    return this._get(0, undefined, "getNowait") as Promise<T>;
  }

  /**
   * How many items the queue holds now (at its owner; approximate, as Python's: others may change it at once).
   * @example
   * ```ts
   * import { Queue } from "tsaio/multiprocessing";
   * const q = new Queue();
   * await q.put(1);
   * console.log(await q.qsize()); // 1
   * ```
   */
  qsize(): Promise<number> {
    throwAtCall();
    if (this._remote !== null) return this._remote.request(SIZE, -1, null, undefined, "qsize") as Promise<number>;
    if (this._closed) return Promise.reject(this._closedError("qsize"));
    return Promise.resolve(this._items.length);
  }

  /**
   * Whether the queue is empty now.
   * @example
   * ```ts
   * import { Queue } from "tsaio/multiprocessing";
   * console.log(await new Queue().empty()); // true
   * ```
   */
  async empty(): Promise<boolean> {
    return (await this.qsize()) === 0;
  }

  /**
   * Whether a bounded queue is full now.
   * @example
   * ```ts
   * import { Queue } from "tsaio/multiprocessing";
   * const q = new Queue(1);
   * await q.put(0);
   * console.log(await q.full()); // true
   * ```
   */
  async full(): Promise<boolean> {
    return this._maxsize > 0 && (await this.qsize()) >= this._maxsize;
  }

  /**
   * On the owner: closes the queue for everyone — waiting calls here reject with
   * `InvalidStateError`, and clients elsewhere get `EOFError`. On a client (a copy given to a job):
   * disconnects it (an item its pending `get` was being sent goes back to the queue). Idempotent.
   * @example
   * ```ts
   * import { Queue } from "tsaio/multiprocessing";
   * const q = new Queue();
   * q.close();
   * console.log(await q.get().catch((e: Error) => e.name)); // InvalidStateError
   * ```
   */
  close(): void {
    if (this._closed) return;
    this._closed = true;
    if (this._remote !== null) {
      this._remote.close();
      return;
    }
    if (this._route !== null) hub().unroute(this._route);
    const err = new InvalidStateError("Queue: the queue was closed while waiting");
    for (const q of [this._getters, this._putters]) {
      for (let p = q.shift(); p !== undefined; p = q.shift()) {
        if (p.live && p.local !== null && p.local.pending) p.local.fut.setException(err);
        p.live = false;
        if (p.timer !== null) clearTimeout(p.timer);
      }
    }
    for (const c of this._clients) c.link.end();
    this._clients.clear();
    this._items.clear();
  }

  /** `await using q = new Queue()`: closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /** @internal */
  _describe(o: DescribeOptions): string {
    const bound = this._maxsize > 0 ? ` maxsize=${this._maxsize}` : "";
    if (this._remote !== null) return `<Queue client${this._closed ? " closed" : ""}${bound} ${this._remote.describe()}>`;
    const waits = `${countLive(this._getters) > 0 ? ` getters=${countLive(this._getters)}` : ""}${countLive(this._putters) > 0 ? ` putters=${countLive(this._putters)}` : ""}`;
    let s = `<Queue${this._closed ? " closed" : ""}${bound} size=${this._items.length}${waits} clients=${this._clients.size}`;
    if (!o.redact && this._items.length > 0) {
      const shown: string[] = [];
      let k = 0;
      this._items.forEach((b) => {
        if (k++ < 3) shown.push(show(deserialize(b), o));
      });
      s += ` items=[${shown.join(", ")}${this._items.length > 3 ? ", …" : ""}]`;
    }
    return s + ">";
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }

  /** @internal The executors' argument hook: a copy elsewhere is a client of this owner. */
  [WIRE](): ProcessWire<QueueHandle> {
    if (this._remote !== null) return { $tsaioShared: import.meta.url, h: this._remote.handle, process: true };
    if (this._closed) throw new InvalidStateError("Queue: a closed queue cannot be passed to a job");
    const h = hub();
    this._route ??= h.route((link) => this._serve(link), false);
    return { $tsaioShared: import.meta.url, h: { kind: "Queue", address: h.listener.address, key: h.keyHex, route: this._route, maxsize: this._maxsize }, process: true };
  }

  // -------------------------------------------------------------------- owner

  /** @internal */
  private _encode(item: T, what: string): Buffer {
    try {
      return Buffer.from(encode(item).buffer);
    } catch (e) {
      throw new TypeError(`Queue.${what}: \`item\` cannot be cloned: ${(e as Error).message}`, { cause: e });
    }
  }

  /** @internal */
  private _closedError(what: string): Error {
    return new InvalidStateError(`Queue.${what}: the queue is closed`);
  }

  /** @internal A put of serialized `bytes` (timeout: ms, 0 = now, Infinity = none). */
  private _put(bytes: Buffer, timeout: number, signal: AbortSignal | undefined, what: string): Promise<unknown> {
    if (this._remote !== null) return this._remote.request(PUT, timeout, bytes, signal, what);
    if (this._closed) return Promise.reject(this._closedError(what));
    if (this._offer(bytes)) return RESOLVED;
    if (timeout === 0) return Promise.reject(new QueueFull(`Queue.${what}: the queue is full (maxsize ${this._maxsize})`));
    const w = new IoWait<unknown>(this, signal, timeout, putTimedOut, what);
    this._putters.push({ local: w, client: null, id: 0, item: bytes, live: true, timer: null });
    return w.fut as unknown as Promise<unknown>;
  }

  /** @internal A get (timeout: ms, 0 = now, Infinity = none). */
  private _get(timeout: number, signal: AbortSignal | undefined, what: string): Promise<unknown> {
    if (this._remote !== null) return this._remote.request(GET, timeout, null, signal, what);
    if (this._closed) return Promise.reject(this._closedError(what));
    const b = this._take();
    if (b !== undefined) {
      try {
        return Promise.resolve(deserialize(b));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    if (timeout === 0) return Promise.reject(new QueueEmpty(`Queue.${what}: the queue is empty`));
    const w = new IoWait<unknown>(this, signal, timeout, getTimedOut, what);
    this._getters.push({ local: w, client: null, id: 0, item: null, live: true, timer: null });
    return w.fut as unknown as Promise<unknown>;
  }

  /** @internal Hands `bytes` to the first waiting getter, or stores it if there is room; false if full. */
  _offer(bytes: Buffer): boolean {
    if (this._handToGetter(bytes)) return true;
    if (this._maxsize > 0 && this._items.length >= this._maxsize) return false;
    this._items.push(bytes);
    return true;
  }

  /** @internal */
  private _handToGetter(bytes: Buffer): boolean {
    for (let g = this._getters.shift(); g !== undefined; g = this._getters.shift()) {
      if (!g.live) continue;
      if (g.local !== null) {
        if (!g.local.pending) continue;
        g.live = false;
        try {
          g.local.fut.setResult(deserialize(bytes));
        } catch (e) {
          g.local.fut.setException(e);
        }
        return true;
      }
      const c = g.client as Client;
      g.live = false;
      if (g.timer !== null) clearTimeout(g.timer);
      c.waiting.delete(g.id);
      if (c.gone) continue;
      c.unacked.set(g.id, bytes);
      const f = frame(ITEM, g.id);
      c.link.write(Buffer.concat([f, bytes]));
      return true;
    }
    return false;
  }

  /** @internal The oldest item (then admits a waiting put into the room it leaves). */
  _take(): Buffer | undefined {
    const b = this._items.shift();
    if (b !== undefined) this._admit();
    return b;
  }

  /** @internal Waiting puts enter while there is room. */
  private _admit(): void {
    while (this._maxsize === 0 || this._items.length < this._maxsize) {
      const p = this._putters.shift();
      if (p === undefined) return;
      if (!p.live || (p.local !== null && !p.local.pending)) continue;
      p.live = false;
      if (p.timer !== null) clearTimeout(p.timer);
      if (p.client !== null) {
        p.client.waiting.delete(p.id);
        if (p.client.gone) continue;
      }
      if (!this._handToGetter(p.item as Buffer)) this._items.push(p.item as Buffer);
      if (p.local !== null) p.local.fut.setResult(undefined);
      else (p.client as Client).link.write(frame(OK, p.id));
    }
  }

  /** @internal Items given back (a client's nack, disconnect): at the head, in their order. */
  private _giveBack(items: Buffer[]): void {
    for (let i = items.length - 1; i >= 0; i--) {
      const b = items[i];
      if (this._handToGetter(b)) continue;
      this._items.unshift(b);
    }
  }

  /** @internal Serves one client connected through the hub. */
  private _serve(link: SocketLink): void {
    const c: Client = { link, unacked: new Map(), waiting: new Map(), gone: false };
    if (this._closed) {
      link.end();
      return;
    }
    this._clients.add(c);
    link.sink = {
      _frame: (p: Buffer) => this._request(c, p),
      _end: () => this._lost(c),
    };
  }

  /** @internal */
  private _lost(c: Client): void {
    if (c.gone) return;
    c.gone = true;
    this._clients.delete(c);
    for (const p of c.waiting.values()) {
      p.live = false;
      if (p.timer !== null) clearTimeout(p.timer);
    }
    c.waiting.clear();
    if (c.unacked.size > 0 && !this._closed) {
      const back = [...c.unacked.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
      c.unacked.clear();
      this._giveBack(back);
    }
  }

  /** @internal One request of client `c`. */
  private _request(c: Client, p: Buffer): void {
    if (c.gone || this._closed) return;
    const op = p[0];
    const id = p.readUInt32LE(1);
    switch (op) {
      case PUT: {
        const t = p.readDoubleLE(5);
        const item = Buffer.from(p.subarray(13)); // its own memory: it may stay queued long
        if (this._offer(item)) c.link.write(frame(OK, id));
        else if (t === 0) c.link.write(frame(IS_FULL, id));
        else this._wait(c, id, item, t, this._putters, IS_FULL);
        break;
      }
      case GET: {
        const t = p.readDoubleLE(5);
        const b = this._take();
        if (b !== undefined) {
          c.unacked.set(id, b);
          c.link.write(Buffer.concat([frame(ITEM, id), b]));
        } else if (t === 0) c.link.write(frame(IS_EMPTY, id));
        else this._wait(c, id, null, t, this._getters, IS_EMPTY);
        break;
      }
      case ACK:
        c.unacked.delete(id);
        break;
      case NACK: {
        const b = c.unacked.get(id);
        if (b !== undefined) {
          c.unacked.delete(id);
          this._giveBack([b]);
        }
        break;
      }
      case CANCEL: {
        const w = c.waiting.get(id);
        if (w !== undefined) {
          w.live = false;
          if (w.timer !== null) clearTimeout(w.timer);
          c.waiting.delete(id);
        }
        break;
      }
      case SIZE: {
        const f = frame(N, id, 4);
        f.writeUInt32LE(this._items.length, 5);
        c.link.write(f);
        break;
      }
      default:
        c.link.end(); // not our protocol
    }
  }

  /** @internal A client's request waits (timeout -1: none; else the owner answers `onTimeout` then). */
  private _wait(c: Client, id: number, item: Buffer | null, t: number, q: Deque<Pending>, onTimeout: number): void {
    const p: Pending = { local: null, client: c, id, item, live: true, timer: null };
    if (t > 0) {
      p.timer = setTimeout(() => {
        if (!p.live) return;
        p.live = false;
        c.waiting.delete(id);
        if (!c.gone) c.link.write(frame(onTimeout, id));
      }, t);
      p.timer.unref();
    }
    c.waiting.set(id, p);
    q.push(p);
  }
}

const RESOLVED: Promise<void> = Promise.resolve();

function countLive(q: Deque<Pending>): number {
  let n = 0;
  q.forEach((p) => {
    if (p.live && (p.local === null || p.local.pending)) n++;
  });
  return n;
}

function putTimedOut(w: IoWait<unknown>): void {
  w.fut.setException(new QueueFull(`Queue.${w.tag as string}: no room within the timeout`));
}

function getTimedOut(w: IoWait<unknown>): void {
  w.fut.setException(new QueueEmpty(`Queue.${w.tag as string}: no item within the timeout`));
}

// ---------------------------------------------------------------------------- client

/** A client's requests in flight to the owner. */
class RemoteLink {
  readonly handle: QueueHandle;
  private readonly _link: SocketLink;
  private readonly _reqs = new Map<number, IoWait<unknown>>();
  private _next = 1;
  private _gone: Error | null = null;
  private _closed = false;

  constructor(h: QueueHandle) {
    this.handle = h;
    this._link = connectRoute(h.address, h.key, h.route, "Queue");
    this._link.sink = {
      _frame: (p: Buffer) => this._reply(p),
      _end: (err: Error | null) => this._end(err),
    };
  }

  describe(): string {
    return `owner=${this.handle.address} requests=${this._reqs.size}${this._gone !== null ? " gone" : ""}`;
  }

  request(op: number, timeout: number, item: Buffer | null, signal: AbortSignal | undefined, what: string): Promise<unknown> {
    if (this._closed) return Promise.reject(new InvalidStateError(`Queue.${what}: the queue is closed`));
    if (this._gone !== null) return Promise.reject(this._eof(what));
    const id = this._next;
    this._next = (this._next + 1) >>> 0 || 1;
    const extra = op === SIZE ? 0 : 8;
    const f = frame(op, id, extra);
    if (extra > 0) f.writeDoubleLE(timeout === Infinity ? -1 : timeout, 5);
    this._link.write(item === null ? f : Buffer.concat([f, item]));
    const w = new IoWait<unknown>(this, signal, Infinity, noTimeout, what);
    this._reqs.set(id, w);
    w.fut._addEntry({
      _onDone: (fut) => {
        // Cancelled here (signal, task): the owner drops the request (or we nack what it sent).
        if (fut.cancelled() && this._reqs.delete(id) && this._gone === null) this._link.write(frame(CANCEL, id));
      },
    });
    return w.fut as unknown as Promise<unknown>;
  }

  private _reply(p: Buffer): void {
    const op = p[0];
    const id = p.readUInt32LE(1);
    const w = this._reqs.get(id);
    if (w === undefined || !w.pending) {
      if (op === ITEM) this._link.write(frame(NACK, id)); // its get ended meanwhile: give it back
      return;
    }
    this._reqs.delete(id);
    const what = w.tag as string;
    switch (op) {
      case OK:
        w.fut.setResult(undefined);
        break;
      case ITEM:
        this._link.write(frame(ACK, id));
        try {
          w.fut.setResult(deserialize(p.subarray(5)));
        } catch (e) {
          w.fut.setException(e);
        }
        break;
      case IS_FULL:
        w.fut.setException(new QueueFull(`Queue.${what}: ${what === "putNowait" ? "the queue is full" : "no room within the timeout"} (maxsize ${this.handle.maxsize})`));
        break;
      case IS_EMPTY:
        w.fut.setException(new QueueEmpty(`Queue.${what}: ${what === "getNowait" ? "the queue is empty" : "no item within the timeout"}`));
        break;
      case N:
        w.fut.setResult(p.readUInt32LE(5));
        break;
      default:
        w.fut.setException(new EOFError(`Queue.${what}: unexpected reply ${op} from the queue's owner`));
    }
  }

  private _eof(what: string, err: Error | null = this._gone): EOFError {
    const why = err === null || err.message === "" ? "" : ` (${err.message})`;
    return new EOFError(`Queue.${what}: the queue's owner closed it or is gone${why}`, err === null ? undefined : { cause: err });
  }

  private _end(err: Error | null): void {
    if (this._gone !== null) return;
    this._gone = err ?? new Error("");
    for (const [id, w] of this._reqs) {
      this._reqs.delete(id);
      if (w.pending) w.fut.setException(this._eof(w.tag as string, err));
    }
  }

  close(): void {
    this._closed = true;
    this._link.end();
  }
}

function noTimeout(): void {}

registerReviver<QueueHandle>(import.meta.url, (h) => {
  const q = new Queue(h.maxsize);
  q._remote = new RemoteLink(h);
  return q;
});
