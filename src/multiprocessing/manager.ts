/**
 * `Manager()`: Python's `multiprocessing.Manager` — a server process holding shared `dict`s,
 * `list`s, `Namespace`s, `Value`s and `Lock`s/`RLock`s, reached from every process through proxies.
 *
 * Each proxy operation is one request to the server and one reply, on a connection (a `Client` of
 * the server's `Listener`, authenticated with the manager's key) shared by every proxy of that
 * manager in the process. The server runs the requests one at a time, so each operation is atomic;
 * a sequence of them (read, then write) is not — hold a manager `Lock` around it. Every operation is
 * async (`await d.get(k)`) and a tsaio cancellation point: a cancelled call raises `CancelledError`
 * at once, though a request already sent may still take effect on the server (a cancelled
 * `acquire` never does: it is withdrawn, or the lock is passed on if it was granted meanwhile).
 *
 * Proxies cross processes as working objects: give one to a `Process`, to a `ProcessPoolExecutor`
 * job, or store it in another shared object (a list proxy as a dict value) and it arrives as a
 * proxy of the same object. The connections never keep a finished program alive; a pending call
 * does.
 * @module
 */
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { runningLoop } from "../context.js";
import { CancelledError, InvalidStateError, TimeoutError } from "../errors.js";
import { decodeError } from "../executors/protocol.js";
import { abortMessage, cancelOnAbort, throwAtCall, WaiterFuture } from "../futures.js";
import { runOutsideTask } from "../internal/ambient.js";
import { type DescribeOptions, FULL } from "../internal/describe.js";
import { describe } from "../internal/validate.js";
import { currentTaskOrNull } from "../tasks.js";
import { deserialize } from "node:v8";
import { Client, type Connection, EOFError, type Sink } from "./connection.js";
import { checkKey, checkTypecodeValue, type DictKey, ERR, flushSoon, GAVE_UP, KIND_CLASS, type ObjKind, OK, type Typecode } from "./manager-protocol.js";
import { checkNotBootstrapping, spawnChild } from "./process.js";
import { fromProcess, toProcess } from "./revive.js";
import { registerReviver, WIRE } from "./wire.js";

export type { DictKey, Typecode } from "./manager-protocol.js";

const URL_ = import.meta.url;
const SERVER_ENTRY = new URL(/\.[cm]?tsx?$/.test(new URL(URL_).pathname) ? "./manager-server.ts" : "./manager-server.js", URL_).href;

// ------------------------------------------------------------------------------ the connection

interface Pending {
  readonly fut: WaiterFuture<unknown>;
  readonly what: string;
  /** An acquire: what to release if the lock is granted after the caller gave up. */
  readonly acquire: { obj: number; owner: string } | null;
}

/**
 * A process's connection to one manager's server, shared by all its proxies of that manager. It
 * takes the replies straight from the connection's socket (it is the socket link's sink), not
 * through `recv()`: a `recv` waits on the loop it was called on, and the calls sharing this link
 * may come from different loops (one `run()` after another), some of them ended.
 */
class Link implements Sink {
  conn: Connection | null = null;
  connecting: Promise<Connection> | null = null;
  /** Why the server cannot be reached any more (it was shut down, or died). */
  dead: Error | null = null;
  readonly pending = new Map<number, Pending>();
  nextId = 1;

  constructor(
    readonly address: string,
    readonly key: string,
  ) {}

  /**
   * The connection, connecting first if needed. The connection is made on the default loop, from a
   * fresh macrotask outside any task: a cancelled caller must not cancel it for the others, and a
   * `run()` loop that ends while it is being made must not strand it (its wait would never end).
   */
  connection(what: string): Connection | Promise<Connection> {
    if (this.dead !== null) throw this.gone(what);
    if (this.conn !== null) return this.conn;
    this.connecting ??= new Promise<Connection>((resolve, reject) => {
      runOutsideTask(() => setImmediate(() => {
        Client(this.address, { authkey: this.key }).then(
          (c) => {
            this.conn = c;
            (c._link as { sink: Sink | null }).sink = this;
            resolve(c);
          },
          (e: unknown) => {
            this.connecting = null;
            reject(e);
          },
        );
      }), undefined);
    });
    return this.connecting.catch((e: unknown) => {
      throw new EOFError(`${what}: cannot reach the manager's server at ${this.address} (${e instanceof Error ? e.message : String(e)}); was it shut down?`, { cause: e });
    });
  }

  gone(what: string): EOFError {
    return new EOFError(`${what}: the manager's server is gone (${(this.dead as Error).message})`, { cause: this.dead });
  }

  /** Sends a request (`id` 0: no reply expected). */
  send(conn: Connection, msg: unknown[], what: string): void {
    try {
      void conn.send(msg).catch(() => {});
      flushSoon(conn);
    } catch (e) {
      if (e instanceof TypeError) throw new TypeError(`${what}: a value cannot be sent to the manager (${e.message})`, { cause: e });
      // The connection ended: the server is gone.
      this.fail(e);
      throw this.gone(what);
    }
  }

  /** Registers request `id`: its reply is expected. While any is, the process stays alive. */
  expect(id: number, p: Pending): void {
    this.pending.set(id, p);
    keepAlive(1);
    // The reply comes from outside the loop: run()'s deadlock detection must wait for it.
    const loop = runningLoop();
    loop._nDetached++;
    p.fut._addEntry({ _onDone: () => void loop._nDetached-- });
  }

  /** @internal Sink: a reply arrived. */
  _frame(b: Buffer): void {
    let msg: unknown[];
    try {
      msg = deserialize(b) as unknown[];
    } catch (e) {
      this.fail(e);
      return;
    }
    this.reply(msg);
  }

  /** @internal Sink: the connection ended. */
  _end(err: Error | null): void {
    this.fail(err ?? new Error("the server closed the connection"));
  }

  reply(msg: unknown[]): void {
    const id = msg[0] as number;
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    keepAlive(-1);
    const status = msg[1] as number;
    const fut = p.fut;
    if (fut.done()) {
      // The caller gave up (timeout, cancel). An acquire granted meanwhile passes the lock on.
      if (p.acquire !== null && status === OK && msg[2] === true && this.conn !== null) {
        try {
          this.send(this.conn, [0, p.acquire.obj, "release", [], p.acquire.owner], p.what);
        } catch {
          /* the server is gone: it freed the lock itself */
        }
      }
      return;
    }
    if (status === OK) {
      let v: unknown;
      try {
        v = fromProcess(msg[2]);
      } catch (e) {
        fut.setException(e);
        return;
      }
      if (v instanceof Promise) {
        v.then(
          (x: unknown) => void (fut.done() || fut.setResult(x)),
          (e: unknown) => void (fut.done() || fut.setException(e)),
        );
      } else fut.setResult(v);
    } else if (status === ERR) fut.setException(decodeError(msg[2]));
    else if (status === GAVE_UP) fut.setResult(false);
  }

  /** The connection ended: every pending call fails, and every later one. */
  fail(e: unknown): void {
    if (this.dead !== null) return;
    this.dead = new Error(`it was shut down, or its process died: the connection to ${this.address} ended${e instanceof Error ? ` (${e.message})` : ""}`, { cause: e });
    this.conn?.close();
    for (const p of this.pending.values()) {
      keepAlive(-1);
      if (!p.fut.done()) p.fut.setException(this.gone(p.what));
    }
    this.pending.clear();
  }

  describe(): string {
    const state = this.dead !== null ? "server-gone" : this.conn !== null ? "connected" : this.connecting !== null ? "connecting" : "not-connected";
    return `${state}${this.pending.size > 0 ? ` pending=${this.pending.size}` : ""}`;
  }
}

// One referenced timer holds the process alive while any reply is awaited (the sockets are unreferenced).
let awaited = 0;
let holder: NodeJS.Timeout | null = null;
function keepAlive(delta: number): void {
  awaited += delta;
  if (awaited > 0 && holder === null) holder = setInterval(noop, 1 << 30);
  else if (awaited === 0 && holder !== null) {
    clearInterval(holder);
    holder = null;
  }
}
function noop(): void {}

/** Links of this process, by server address. */
const links = new Map<string, Link>();

function linkOf(address: string, key: string): Link {
  let l = links.get(address);
  if (l === undefined) {
    l = new Link(address, key);
    links.set(address, l);
  }
  return l;
}

/** An RLock's owner: the calling task (tasks of one process are told apart), "0" outside tasks. */
const taskIds = new WeakMap<object, number>();
let nextTaskId = 1;
function ownerKey(): string {
  const t = currentTaskOrNull();
  if (t === null) return "0";
  let n = taskIds.get(t);
  if (n === undefined) {
    n = nextTaskId++;
    taskIds.set(t, n);
  }
  return String(n);
}

/** Sends one request and waits for its reply. */
async function request(link: Link, owner: object, obj: number, method: string, args: unknown[], what: string): Promise<unknown> {
  const c = link.connection(what);
  const conn = c instanceof Promise ? await c : c;
  const id = link.nextId++;
  link.send(conn, [id, obj, method, args, ""], what);
  const fut = new WaiterFuture<unknown>(runningLoop(), owner);
  link.expect(id, { fut, what, acquire: null });
  return await fut;
}

// ------------------------------------------------------------------------------ proxies

/** @internal A proxy's handle: the server's address and key, the object's id and kind. */
export interface ProxyHandle {
  a: string;
  k: string;
  id: number;
  t: ObjKind;
}

/**
 * What every proxy has: the object's id on its manager, `util.inspect` of its connection state, and
 * its wire form (a proxy given to a Process or a process-pool job arrives there as a proxy).
 * @example
 * ```ts
 * import { Manager, BaseProxy } from "tsaio/multiprocessing";
 * await using m = await Manager();
 * const d = await m.dict();
 * console.log(d instanceof BaseProxy, typeof d.id); // true number
 * ```
 */
export abstract class BaseProxy {
  /** @internal */ readonly _h: ProxyHandle;
  /** @internal */ readonly _link: Link;

  /** @internal Made by a manager or a reviver. */
  constructor(h: ProxyHandle) {
    this._h = h;
    this._link = linkOf(h.a, h.k);
  }

  /** The object's id on its manager. */
  get id(): number {
    return this._h.id;
  }

  /** @internal */
  protected _call(method: string, args: unknown[], what: string): Promise<unknown> {
    return request(this._link, this, this._h.id, method, args, what);
  }

  /** @internal */
  _describe(_o: DescribeOptions): string {
    return `<${KIND_CLASS[this._h.t]} #${this._h.id} ${this._link.describe()} manager=${JSON.stringify(this._h.a)}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }

  /** @internal The wire form (see revive.ts). */
  [WIRE](): { $tsaioShared: string; h: ProxyHandle; process: true } {
    return { $tsaioShared: URL_, h: this._h, process: true };
  }
}

function value(v: unknown, what: string): unknown {
  return toProcess(v, what);
}

function checkIndex(i: unknown, what: string, name = "index"): void {
  if (typeof i !== "number" || !Number.isInteger(i)) throw new TypeError(`${what}: \`${name}\` must be an integer, got ${describe(i)}`);
}

/**
 * A shared `dict` (Map-like; Python's `DictProxy`): keys are primitives (strings, numbers…), values
 * anything that can be cloned (proxies included). Every method is async.
 * @typeParam K - the key type.
 * @typeParam V - the value type.
 * @example
 * ```ts
 * import { Manager } from "tsaio/multiprocessing";
 * await using m = await Manager();
 * const d = await m.dict<string, number>([["a", 1]]);
 * await d.set("b", 2);
 * console.log(await d.get("a"), await d.size(), await d.entries()); // 1 2 [ [ 'a', 1 ], [ 'b', 2 ] ]
 * ```
 */
export class DictProxy<K extends DictKey = DictKey, V = unknown> extends BaseProxy {
  /** The value under `key`, or `dflt` (default undefined) if there is none. */
  get(key: K): Promise<V | undefined>;
  get(key: K, dflt: V): Promise<V>;
  get(key: K, dflt?: V): Promise<V | undefined> {
    throwAtCall();
    checkKey(key, "DictProxy.get");
    return this._call("get", [key, value(dflt, "DictProxy.get")], "DictProxy.get") as Promise<V | undefined>;
  }

  /** Sets `key` to `value`. */
  set(key: K, v: V): Promise<void> {
    throwAtCall();
    checkKey(key, "DictProxy.set");
    return this._call("set", [key, value(v, "DictProxy.set")], "DictProxy.set") as Promise<void>;
  }

  /** Whether `key` is present. */
  has(key: K): Promise<boolean> {
    throwAtCall();
    checkKey(key, "DictProxy.has");
    return this._call("has", [key], "DictProxy.has") as Promise<boolean>;
  }

  /** Removes `key`; whether it was present. */
  delete(key: K): Promise<boolean> {
    throwAtCall();
    checkKey(key, "DictProxy.delete");
    return this._call("delete", [key], "DictProxy.delete") as Promise<boolean>;
  }

  /** Removes `key` and returns its value, or `dflt` (default undefined) if it was absent. */
  pop(key: K, dflt?: V): Promise<V | undefined> {
    throwAtCall();
    checkKey(key, "DictProxy.pop");
    return this._call("pop", [key, value(dflt, "DictProxy.pop")], "DictProxy.pop") as Promise<V | undefined>;
  }

  /** Python's `setdefault`: the value under `key`, set to `v` first if absent (atomic). */
  setDefault(key: K, v: V): Promise<V> {
    throwAtCall();
    checkKey(key, "DictProxy.setDefault");
    return this._call("setDefault", [key, value(v, "DictProxy.setDefault")], "DictProxy.setDefault") as Promise<V>;
  }

  /** The keys, in insertion order. */
  keys(): Promise<K[]> {
    throwAtCall();
    return this._call("keys", [], "DictProxy.keys") as Promise<K[]>;
  }

  /** The values, in insertion order. */
  values(): Promise<V[]> {
    throwAtCall();
    return this._call("values", [], "DictProxy.values") as Promise<V[]>;
  }

  /** The `[key, value]` pairs, in insertion order. */
  entries(): Promise<[K, V][]> {
    throwAtCall();
    return this._call("entries", [], "DictProxy.entries") as Promise<[K, V][]>;
  }

  /** The number of entries. */
  size(): Promise<number> {
    throwAtCall();
    return this._call("size", [], "DictProxy.size") as Promise<number>;
  }

  /** Removes every entry. */
  clear(): Promise<void> {
    throwAtCall();
    return this._call("clear", [], "DictProxy.clear") as Promise<void>;
  }

  /** Sets every `[key, value]` of `entries` (an iterable of pairs, or a plain object), in one atomic step. */
  update(entries: Iterable<readonly [K, V]> | (K extends string ? Record<K, V> : never)): Promise<void> {
    throwAtCall();
    const pairs = entriesOf(entries, "DictProxy.update");
    for (const [k] of pairs) checkKey(k, "DictProxy.update");
    return this._call("update", [value(pairs, "DictProxy.update")], "DictProxy.update") as Promise<void>;
  }

  /** A copy of the whole dict, as a Map. */
  copy(): Promise<Map<K, V>> {
    throwAtCall();
    return this._call("copy", [], "DictProxy.copy") as Promise<Map<K, V>>;
  }
}

function entriesOf(e: unknown, what: string): [unknown, unknown][] {
  if (e === null || typeof e !== "object") throw new TypeError(`${what}: \`entries\` must be an iterable of [key, value] pairs or a plain object, got ${describe(e)}`);
  if (typeof (e as Iterable<unknown>)[Symbol.iterator] === "function") {
    const out: [unknown, unknown][] = [];
    for (const p of e as Iterable<unknown>) {
      if (!Array.isArray(p) || p.length !== 2) throw new TypeError(`${what}: \`entries\` must hold [key, value] pairs, got ${describe(p)}`);
      out.push([p[0], p[1]]);
    }
    return out;
  }
  return Object.entries(e);
}

/**
 * A shared `list` (Python's `ListProxy`). Indices may be negative (from the end, as Python's); an
 * index out of range is a RangeError. Every method is async.
 * @typeParam T - the item type.
 * @example
 * ```ts
 * import { Manager } from "tsaio/multiprocessing";
 * await using m = await Manager();
 * const l = await m.list([1, 2]);
 * await l.append(3);
 * console.log(await l.get(-1), await l.pop(0), await l.toArray()); // 3 1 [ 2, 3 ]
 * ```
 */
export class ListProxy<T = unknown> extends BaseProxy {
  /** The item at `index` (negative: from the end). */
  get(index: number): Promise<T> {
    throwAtCall();
    checkIndex(index, "ListProxy.get");
    return this._call("get", [index], "ListProxy.get") as Promise<T>;
  }

  /** Replaces the item at `index`. */
  set(index: number, v: T): Promise<void> {
    throwAtCall();
    checkIndex(index, "ListProxy.set");
    return this._call("set", [index, value(v, "ListProxy.set")], "ListProxy.set") as Promise<void>;
  }

  /** Adds `v` at the end. */
  append(v: T): Promise<void> {
    throwAtCall();
    return this._call("append", [value(v, "ListProxy.append")], "ListProxy.append").then(noop);
  }

  /** Adds every item of `items` at the end, in one atomic step. */
  extend(items: Iterable<T>): Promise<void> {
    throwAtCall();
    if (items === null || typeof (items as Partial<Iterable<T>>)[Symbol.iterator] !== "function") throw new TypeError(`ListProxy.extend: \`items\` must be an iterable, got ${describe(items)}`);
    return this._call("extend", [value([...items], "ListProxy.extend")], "ListProxy.extend").then(noop);
  }

  /** Inserts `v` before `index` (clamped to the list, as Python's `insert`). */
  insert(index: number, v: T): Promise<void> {
    throwAtCall();
    checkIndex(index, "ListProxy.insert");
    return this._call("insert", [index, value(v, "ListProxy.insert")], "ListProxy.insert").then(noop);
  }

  /** Removes and returns the item at `index` (default: the last); RangeError on an empty list. */
  pop(index?: number): Promise<T> {
    throwAtCall();
    if (index !== undefined) checkIndex(index, "ListProxy.pop");
    return this._call("pop", [index], "ListProxy.pop") as Promise<T>;
  }

  /** The number of items. */
  length(): Promise<number> {
    throwAtCall();
    return this._call("length", [], "ListProxy.length") as Promise<number>;
  }

  /** A copy of items `start` to `end` (Array.prototype.slice's rules). */
  slice(start?: number, end?: number): Promise<T[]> {
    throwAtCall();
    if (start !== undefined) checkIndex(start, "ListProxy.slice", "start");
    if (end !== undefined) checkIndex(end, "ListProxy.slice", "end");
    return this._call("slice", [start, end], "ListProxy.slice") as Promise<T[]>;
  }

  /** A copy of the whole list. */
  toArray(): Promise<T[]> {
    throwAtCall();
    return this._call("toArray", [], "ListProxy.toArray") as Promise<T[]>;
  }

  /** Removes every item. */
  clear(): Promise<void> {
    throwAtCall();
    return this._call("clear", [], "ListProxy.clear") as Promise<void>;
  }
}

function checkName(name: unknown, what: string): void {
  if (typeof name !== "string") throw new TypeError(`${what}: \`name\` must be a string, got ${describe(name)}`);
}

/**
 * A shared namespace (Python's `Namespace`): named values, read with `await ns.get("x")` and written
 * with `await ns.set("x", 1)`. Not property syntax (`ns.x = 1`) because every access crosses to
 * the server: a property write could not be awaited, so its failure (a value that cannot be
 * cloned, a server gone) would be lost and the next read could overtake it.
 * @typeParam T - the names and their value types.
 * @example
 * ```ts
 * import { Manager } from "tsaio/multiprocessing";
 * await using m = await Manager();
 * const ns = await m.Namespace<{ x: number; label: string }>({ x: 1 });
 * await ns.set("label", "done");
 * console.log(await ns.get("x"), await ns.toObject()); // 1 { x: 1, label: 'done' }
 * ```
 */
export class NamespaceProxy<T extends Record<string, unknown> = Record<string, unknown>> extends BaseProxy {
  /** The value named `name` (undefined if unset). */
  get<N extends keyof T & string>(name: N): Promise<T[N] | undefined> {
    throwAtCall();
    checkName(name, "NamespaceProxy.get");
    return this._call("get", [name], "NamespaceProxy.get") as Promise<T[N] | undefined>;
  }

  /** Sets `name` to `v`. */
  set<N extends keyof T & string>(name: N, v: T[N]): Promise<void> {
    throwAtCall();
    checkName(name, "NamespaceProxy.set");
    return this._call("set", [name, value(v, "NamespaceProxy.set")], "NamespaceProxy.set") as Promise<void>;
  }

  /** Whether `name` is set. */
  has(name: keyof T & string): Promise<boolean> {
    throwAtCall();
    checkName(name, "NamespaceProxy.has");
    return this._call("has", [name], "NamespaceProxy.has") as Promise<boolean>;
  }

  /** Unsets `name`; whether it was set. */
  delete(name: keyof T & string): Promise<boolean> {
    throwAtCall();
    checkName(name, "NamespaceProxy.delete");
    return this._call("delete", [name], "NamespaceProxy.delete") as Promise<boolean>;
  }

  /** Every name and value, as a plain object. */
  toObject(): Promise<Partial<T>> {
    throwAtCall();
    return this._call("toObject", [], "NamespaceProxy.toObject") as Promise<Partial<T>>;
  }
}

/**
 * A typecode's value type: a one-character string for `"u"`, else a number.
 * @example
 * ```ts
 * import type { TypecodeValue } from "tsaio/multiprocessing";
 * const ch: TypecodeValue<"u"> = "x";
 * const n: TypecodeValue<"i"> = 42;
 * console.log(ch, n); // x 42
 * ```
 */
export type TypecodeValue<C extends Typecode> = C extends "u" ? string : number;

/**
 * A shared value of a Python typecode (`"i"`: a 32-bit integer, `"d"`: a double, `"u"`: a
 * character…; Python's manager `Value`). `get`/`set` are atomic each; a read-modify-write needs a
 * manager `Lock` around it.
 * @typeParam C - the typecode.
 * @example
 * ```ts
 * import { Manager } from "tsaio/multiprocessing";
 * await using m = await Manager();
 * const v = await m.Value("i", 41);
 * await v.set((await v.get()) + 1);
 * console.log(v.typecode, await v.get()); // i 42
 * ```
 */
export class ValueProxy<C extends Typecode = Typecode> extends BaseProxy {
  /** @internal */ readonly _typecode: C;

  /** @internal */
  constructor(h: ProxyHandle & { c?: string }) {
    super(h);
    this._typecode = h.c as C;
  }

  /** The typecode. */
  get typecode(): C {
    return this._typecode;
  }

  /** The value. */
  get(): Promise<TypecodeValue<C>> {
    throwAtCall();
    return this._call("get", [], "ValueProxy.get") as Promise<TypecodeValue<C>>;
  }

  /** Sets the value (checked against the typecode: TypeError/RangeError naming `value`). */
  set(v: TypecodeValue<C>): Promise<void> {
    throwAtCall();
    checkTypecodeValue(this._typecode, v, "ValueProxy.set");
    return this._call("set", [v], "ValueProxy.set") as Promise<void>;
  }
}

/**
 * Options of {@link LockProxy.acquire}.
 * @example
 * ```ts
 * import { Manager, type AcquireOptions } from "tsaio/multiprocessing";
 * await using m = await Manager();
 * const lock = await m.Lock();
 * const quick: AcquireOptions = { timeout: 100 };
 * console.log(await lock.acquire(quick), await lock.acquire(quick)); // true false
 * ```
 */
export interface AcquireOptions {
  /** false: take the lock only if it is free now (Python's `blocking=False`). Default true. */
  blocking?: boolean;
  /** Give up after this many ms (real time): `acquire` then resolves to false. Default: no limit. */
  timeout?: number | null;
  /** Aborting it cancels the wait (`CancelledError`). */
  signal?: AbortSignal;
}

function timeUp(f: WaiterFuture<unknown>): void {
  if (!f.done()) f.setResult(false);
}

/**
 * A shared lock (Python's manager `Lock`): held by one caller at a time across every process.
 * `acquire` waits in order of arrival; any holder's `release` frees it (as `threading.Lock`). A
 * process that dies holding it — killed, crashed, or exited without releasing — releases it: the
 * server sees its connection close.
 * @example
 * ```ts
 * import { Manager } from "tsaio/multiprocessing";
 * await using m = await Manager();
 * const lock = await m.Lock();
 * const n = await m.Value("i", 0);
 * await lock.run(async () => n.set((await n.get()) + 1));
 * console.log(await n.get(), await lock.locked()); // 1 false
 * ```
 */
export class LockProxy extends BaseProxy {
  /** @internal */
  protected _what(m: string): string {
    return `${KIND_CLASS[this._h.t]}.${m}`;
  }

  /**
   * Takes the lock, waiting for it; true once taken, false if `blocking: false` found it held or
   * `timeout` passed. A tsaio cancellation point.
   */
  acquire(options?: AcquireOptions): Promise<boolean> {
    const what = this._what("acquire");
    let blocking = true;
    let ms: number | null = null;
    let signal: AbortSignal | undefined;
    if (options !== undefined) {
      if (options === null || typeof options !== "object") throw new TypeError(`${what}: \`options\` must be an object, got ${describe(options)}`);
      blocking = options.blocking ?? true;
      if (typeof blocking !== "boolean") throw new TypeError(`${what}: \`blocking\` must be a boolean, got ${describe(blocking)}`);
      ms = options.timeout ?? null;
      if (ms !== null && typeof ms !== "number") throw new TypeError(`${what}: \`timeout\` must be a number of milliseconds or null, got ${describe(ms)}`);
      if (ms !== null && (Number.isNaN(ms) || ms < 0)) throw new RangeError(`${what}: \`timeout\` must be >= 0 milliseconds, got ${ms}`);
      signal = options.signal;
      if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError(`${what}: \`signal\` must be an AbortSignal, got ${describe(signal)}`);
    }
    throwAtCall();
    if (signal?.aborted === true) return Promise.reject(new CancelledError(abortMessage(signal)));
    return this._acquire(blocking, ms, signal, what, ownerKey());
  }

  /** @internal */
  private async _acquire(blocking: boolean, ms: number | null, signal: AbortSignal | undefined, what: string, owner: string): Promise<boolean> {
    const link = this._link;
    const c = link.connection(what);
    const conn = c instanceof Promise ? await c : c;
    const id = link.nextId++;
    const obj = this._h.id;
    link.send(conn, [id, obj, "acquire", [blocking], owner], what);
    const fut = new WaiterFuture<unknown>(runningLoop(), this);
    link.expect(id, { fut, what, acquire: { obj, owner } });
    const timer = ms === null || ms === Infinity ? null : setTimeout(timeUp, ms, fut);
    if (signal !== undefined) cancelOnAbort(fut, signal);
    fut._addEntry({
      _onDone: () => {
        if (timer !== null) clearTimeout(timer);
        // Gave up before the reply: withdraw the request (if the grant crosses it, reply() passes the lock on).
        if (link.pending.has(id) && link.conn !== null && link.dead === null) {
          try {
            link.send(link.conn, [0, 0, "cancel", [id], owner], what);
          } catch {
            /* gone: the server dropped the request with the connection */
          }
        }
      },
    });
    try {
      return (await fut) as boolean;
    } catch (e) {
      // Granted, then this task was cancelled before it resumed: the lock is ours; pass it on.
      if (fut.done() && !fut.cancelled() && fut.exception() === null && fut.result() === true && link.conn !== null) {
        try {
          link.send(link.conn, [0, obj, "release", [], owner], what);
        } catch {
          /* gone: the server freed it */
        }
      }
      throw e;
    }
  }

  /** Releases the lock: InvalidStateError if it is not held (for an RLock: not by this task). */
  async release(): Promise<void> {
    throwAtCall();
    const what = this._what("release");
    await request(this._link, this, this._h.id, "release", [], what);
  }

  /** Whether someone holds the lock. */
  locked(): Promise<boolean> {
    throwAtCall();
    return this._call("locked", [], this._what("locked")) as Promise<boolean>;
  }

  /** Runs `fn` holding the lock: acquire (with `options`), `fn`, release however it ends. */
  async run<R>(fn: () => R | PromiseLike<R>, options?: { signal?: AbortSignal; timeout?: number | null }): Promise<Awaited<R>> {
    if (typeof fn !== "function") throw new TypeError(`${this._what("run")}: \`fn\` must be a function, got ${describe(fn)}`);
    if (!(await this.acquire(options))) throw new TimeoutError(`${this._what("run")}: the lock was not acquired within the timeout`);
    try {
      return await fn();
    } finally {
      await this.release();
    }
  }
}

/**
 * A shared re-entrant lock (Python's manager `RLock`): the task holding it may acquire it again and
 * must release it as many times. Its owner is the task (in its process) that acquired it; another
 * task's `release` is an InvalidStateError. A dead holder releases it, as {@link LockProxy}.
 * @example
 * ```ts
 * import { Manager } from "tsaio/multiprocessing";
 * await using m = await Manager();
 * const r = await m.RLock();
 * await r.acquire();
 * await r.acquire();
 * await r.release();
 * console.log(await r.locked()); // true
 * await r.release();
 * console.log(await r.locked()); // false
 * ```
 */
export class RLockProxy extends LockProxy {
  /** Releases one level (the task must hold it). */
  override async release(): Promise<void> {
    throwAtCall();
    const what = this._what("release");
    const link = this._link;
    const owner = ownerKey();
    const c = link.connection(what);
    const conn = c instanceof Promise ? await c : c;
    const id = link.nextId++;
    link.send(conn, [id, this._h.id, "release", [], owner], what);
    const fut = new WaiterFuture<unknown>(runningLoop(), this);
    link.expect(id, { fut, what, acquire: null });
    await fut;
  }
}

function proxyOf(h: ProxyHandle): BaseProxy {
  switch (h.t) {
    case "dict":
      return new DictProxy(h);
    case "list":
      return new ListProxy(h);
    case "Namespace":
      return new NamespaceProxy(h);
    case "Value":
      return new ValueProxy(h);
    case "Lock":
      return new LockProxy(h);
    case "RLock":
      return new RLockProxy(h);
  }
}

registerReviver(URL_, (h: ProxyHandle) => proxyOf(h));

// ------------------------------------------------------------------------------ the manager

/**
 * Options of {@link SyncManager} and {@link Manager}.
 * @example
 * ```ts
 * import { Manager, type ManagerOptions } from "tsaio/multiprocessing";
 * const options: ManagerOptions = { authkey: "a shared secret" };
 * await using m = await Manager(options);
 * console.log(typeof m.address); // string
 * ```
 */
export interface ManagerOptions {
  /** The key clients must prove (default: a random one, handed to processes inside the proxies). */
  authkey?: string;
}

type ManagerState = "initial" | "starting" | "started" | "shutdown";

/**
 * A manager (Python's `multiprocessing.managers.SyncManager`): `await start()` launches its server
 * process; `dict()`, `list()`, `Namespace()`, `Value()`, `Lock()`, `RLock()` create shared objects
 * there and return their proxies; `shutdown()` (or `await using`) stops the server, after which
 * every call on its proxies fails with `EOFError`. The server exits with its parent's process too,
 * and an unused manager does not keep a finished program alive. {@link Manager} is the short form.
 * Shared objects live as long as the manager (proxies hold no reference count).
 * @example
 * ```ts
 * import { SyncManager } from "tsaio/multiprocessing";
 * const m = new SyncManager();
 * await m.start();
 * const d = await m.dict<string, string>();
 * await d.set("who", "server");
 * console.log(await d.get("who"), typeof m.pid); // server number
 * await m.shutdown();
 * ```
 */
export class SyncManager implements AsyncDisposable {
  /** @internal */ private _state: ManagerState = "initial";
  /** @internal */ private _child: ChildProcess | null = null;
  /** @internal */ private _address: string | null = null;
  /** @internal */ private readonly _key: string;
  /** @internal */ private _exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  /** @internal */ private _exitWaiters: (() => void)[] = [];
  /** @internal */ private _created = 0;

  constructor(options?: ManagerOptions) {
    if (options !== undefined && (options === null || typeof options !== "object")) throw new TypeError(`SyncManager: \`options\` must be an object, got ${describe(options)}`);
    const key = options?.authkey ?? randomBytes(24).toString("hex");
    if (typeof key !== "string" || key === "") throw new TypeError(`SyncManager: \`authkey\` must be a non-empty string, got ${describe(key)}`);
    this._key = key;
  }

  /** The server's address (a socket path); null before `start()`. */
  get address(): string | null {
    return this._address;
  }

  /** The server process's id; null before `start()`. */
  get pid(): number | null {
    return this._child?.pid ?? null;
  }

  /** Starts the server process; resolves (to this manager) once it listens. A manager starts once. */
  async start(): Promise<this> {
    throwAtCall();
    checkNotBootstrapping("SyncManager.start()");
    if (this._state !== "initial") throw new InvalidStateError(`SyncManager.start: the manager was ${this._state === "shutdown" ? "shut down" : "started"} already`);
    this._state = "starting";
    const loop = runningLoop();
    const fut = new WaiterFuture<string>(loop, this);
    const child = spawnChild(SERVER_ENTRY, { authkey: this._key });
    this._child = child;
    child.once("message", (m: unknown) => {
      const address = (m as { address?: unknown } | null)?.address;
      if (!fut.done() && typeof address === "string") fut.setResult(address);
    });
    child.on("exit", (code, signal) => {
      this._exit = { code, signal };
      if (!fut.done()) fut.setException(new Error(`SyncManager.start: the server process exited (${signal ?? `code ${code}`}) before it was ready`));
      for (const w of this._exitWaiters.splice(0)) w();
      if (this._address !== null) links.get(this._address)?.fail(new Error(`the server process exited (${signal ?? `code ${code}`})`));
    });
    child.on("error", (e: unknown) => {
      if (!fut.done()) fut.setException(e);
    });
    loop._nDetached++;
    try {
      this._address = await fut;
    } catch (e) {
      this._state = "shutdown";
      if (this._exit === null) child.kill("SIGKILL");
      throw e;
    } finally {
      loop._nDetached--;
    }
    // An idle manager must not keep the program alive; the server exits when its parent does.
    child.unref();
    child.channel?.unref();
    this._state = "started";
    return this;
  }

  /** @internal */
  private _check(what: string): string {
    if (this._state !== "started") {
      throw new InvalidStateError(`SyncManager.${what}: the manager is ${this._state === "shutdown" ? "shut down" : "not started (await manager.start(), or use await Manager())"}`);
    }
    return this._address as string;
  }

  /** @internal */
  private async _create<P extends BaseProxy>(kind: ObjKind, args: unknown[], extra?: Record<string, unknown>): Promise<P> {
    const address = this._check(kind);
    const id = (await request(linkOf(address, this._key), this, 0, "create", [kind, ...args], `SyncManager.${kind}`)) as number;
    this._created++;
    return proxyOf({ a: address, k: this._key, id, t: kind, ...extra } as ProxyHandle) as P;
  }

  /**
   * A new shared dict, with `entries` (pairs or a plain object) if given.
   * @example
   * ```ts
   * import { Manager } from "tsaio/multiprocessing";
   * await using m = await Manager();
   * const d = await m.dict({ a: 1 });
   * console.log(await d.has("a")); // true
   * ```
   */
  dict<K extends DictKey = DictKey, V = unknown>(entries?: Iterable<readonly [K, V]> | (K extends string ? Record<K, V> : never)): Promise<DictProxy<K, V>> {
    throwAtCall();
    this._check("dict");
    const pairs = entries === undefined ? undefined : entriesOf(entries, "SyncManager.dict");
    if (pairs !== undefined) for (const [k] of pairs) checkKey(k, "SyncManager.dict");
    return this._create("dict", pairs === undefined ? [] : [toProcess(pairs, "SyncManager.dict")]);
  }

  /**
   * A new shared list, with `items` if given.
   * @example
   * ```ts
   * import { Manager } from "tsaio/multiprocessing";
   * await using m = await Manager();
   * const l = await m.list(["a"]);
   * console.log(await l.length()); // 1
   * ```
   */
  list<T = unknown>(items?: Iterable<T>): Promise<ListProxy<T>> {
    throwAtCall();
    this._check("list");
    if (items !== undefined && (items === null || typeof (items as Partial<Iterable<T>>)[Symbol.iterator] !== "function")) throw new TypeError(`SyncManager.list: \`items\` must be an iterable, got ${describe(items)}`);
    return this._create("list", items === undefined ? [] : [toProcess([...items], "SyncManager.list")]);
  }

  /**
   * A new shared namespace, with the names of `init` if given.
   * @example
   * ```ts
   * import { Manager } from "tsaio/multiprocessing";
   * await using m = await Manager();
   * const ns = await m.Namespace({ ready: false });
   * console.log(await ns.get("ready")); // false
   * ```
   */
  Namespace<T extends Record<string, unknown> = Record<string, unknown>>(init?: Partial<T>): Promise<NamespaceProxy<T>> {
    throwAtCall();
    this._check("Namespace");
    if (init !== undefined && (init === null || typeof init !== "object")) throw new TypeError(`SyncManager.Namespace: \`init\` must be an object, got ${describe(init)}`);
    return this._create("Namespace", init === undefined ? [] : [toProcess({ ...init }, "SyncManager.Namespace")]);
  }

  /**
   * A new shared value of Python typecode `typecode` (`"i"`, `"d"`, `"u"`…) holding `v`.
   * @example
   * ```ts
   * import { Manager } from "tsaio/multiprocessing";
   * await using m = await Manager();
   * const v = await m.Value("d", 0.5);
   * console.log(await v.get()); // 0.5
   * ```
   */
  Value<C extends Typecode>(typecode: C, v: TypecodeValue<C>): Promise<ValueProxy<C>> {
    throwAtCall();
    this._check("Value");
    checkTypecodeValue(typecode, v, "SyncManager.Value");
    return this._create("Value", [typecode, v], { c: typecode });
  }

  /**
   * A new shared lock.
   * @example
   * ```ts
   * import { Manager } from "tsaio/multiprocessing";
   * await using m = await Manager();
   * const lock = await m.Lock();
   * console.log(await lock.acquire(), await lock.acquire({ blocking: false })); // true false
   * await lock.release();
   * ```
   */
  Lock(): Promise<LockProxy> {
    throwAtCall();
    this._check("Lock");
    return this._create("Lock", []);
  }

  /**
   * A new shared re-entrant lock.
   * @example
   * ```ts
   * import { Manager } from "tsaio/multiprocessing";
   * await using m = await Manager();
   * const r = await m.RLock();
   * console.log(await r.acquire(), await r.acquire()); // true true
   * ```
   */
  RLock(): Promise<RLockProxy> {
    throwAtCall();
    this._check("RLock");
    return this._create("RLock", []);
  }

  /**
   * Stops the server process (its shared objects go with it): every pending and later call on its
   * proxies fails with `EOFError`. Calling it again, or before `start()`, does nothing.
   */
  async shutdown(): Promise<void> {
    if (this._state !== "started" && this._state !== "starting") {
      this._state = "shutdown";
      return;
    }
    this._state = "shutdown";
    const child = this._child as ChildProcess;
    if (this._address !== null) links.get(this._address)?.fail(new Error("the manager was shut down"));
    if (this._exit !== null) return;
    const loop = runningLoop();
    const fut = new WaiterFuture<void>(loop, this);
    this._exitWaiters.push(() => void (fut.done() || fut.setResult(undefined)));
    child.ref(); // keep this process alive until the server is gone
    loop._nDetached++;
    // The server exits when its channel closes; one that does not (stuck) is killed.
    const killer = setTimeout(() => child.kill("SIGKILL"), 2_000);
    try {
      if (child.connected) child.disconnect();
      else child.kill("SIGKILL");
      await fut;
    } finally {
      clearTimeout(killer);
      loop._nDetached--;
      child.unref();
    }
  }

  /** `await using m = await Manager()`: shuts it down at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  /** @internal */
  _describe(_o: DescribeOptions): string {
    const pid = this.pid === null ? "" : ` pid=${this.pid}`;
    const addr = this._address === null ? "" : ` address=${JSON.stringify(this._address)}`;
    const exit = this._exit === null || this._state === "shutdown" ? "" : ` server-exited=${this._exit.signal ?? this._exit.code}`;
    const link = this._address === null ? undefined : links.get(this._address);
    return `<SyncManager ${this._state}${pid}${addr}${exit} created=${this._created}${link === undefined ? "" : ` ${link.describe()}`}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}

/**
 * Starts a manager (Python's `multiprocessing.Manager()`): a {@link SyncManager} whose server
 * process is up. `await using m = await Manager()` shuts it down at the end of the scope.
 * @example
 * ```ts
 * import { Manager } from "tsaio/multiprocessing";
 * await using m = await Manager();
 * const counts = await m.dict<string, number>();
 * await counts.set("x", 1);
 * console.log(await counts.get("x")); // 1
 * ```
 */
export function Manager(options?: ManagerOptions): Promise<SyncManager> {
  return new SyncManager(options).start();
}
