/**
 * The Redis connections of `tsaio/redis`, shared by the primitives, and the two rules every command
 * they send follows:
 *
 * - **Never hang.** A command is sent only on a ready connection and must answer before a local
 *   deadline (`connectTimeout` after the call began); while Redis is unreachable the call waits for a
 *   reconnect up to that deadline, then fails with a {@link RedisUnavailableError}. The connections
 *   are the library's own (`duplicate()` of the user's client, or made from a URL) with ioredis'
 *   offline queue off, no per-request retries and no re-sending after a reconnect, so nothing a call
 *   gave up on is replayed later behind its back. A connection that stays silent past a deadline
 *   (a network partition: the socket looks open) is dropped and reconnected.
 * - **Retries are safe.** A command that failed because the connection died is sent again (within
 *   the deadline): every script is idempotent for its caller (it names its owner id), so a script
 *   that ran before the connection died is not run twice.
 *
 * Links are shared by every primitive made with the same `connection` (URL or client) and
 * `connectTimeout`, reference-counted, and disconnected when the last one closes. Pub/sub runs on a
 * second connection made the first time a primitive has to wait.
 *
 * Internal: not part of the package's public API (except {@link RedisUnavailableError} and the
 * option types, re-exported by index.ts).
 * @module
 */
import { randomBytes } from "node:crypto";
import { Redis, type RedisOptions } from "ioredis";
import { describe } from "../internal/validate.js";

/**
 * Redis did not answer within `connectTimeout`: it is unreachable (refused, reset, partitioned) or
 * too slow. `lastError` is the connection's last error, if it had one.
 * @example
 * ```ts
 * import { RedisUnavailableError } from "tsaio/redis";
 * const e = new RedisUnavailableError("RedisLock.acquire: Redis at 127.0.0.1:6399 did not answer within 100 ms");
 * console.log(e.name, e instanceof Error); // RedisUnavailableError true
 * ```
 */
export class RedisUnavailableError extends Error {
  override name = "RedisUnavailableError";
  /** The connection's last error when the call gave up, if any. */
  readonly lastError: Error | undefined;
  constructor(message: string, lastError?: Error) {
    super(message, lastError === undefined ? undefined : { cause: lastError });
    this.lastError = lastError;
  }
}

/** Where a primitive connects: a redis:// URL, or an ioredis client (never used itself: duplicated). */
export type RedisConnection = string | Redis;

/** Options every primitive of `tsaio/redis` takes. */
export interface RedisConnectionOptions {
  /** A `redis://` URL or an ioredis `Redis` client (the primitive makes its own connections from it). Default `redis://127.0.0.1:6379`. */
  connection?: RedisConnection;
  /** How long a call waits for Redis to answer (including a reconnect) before it fails with `RedisUnavailableError`. Default 5000 ms. */
  connectTimeout?: number;
  /** The prefix of every key and channel the primitive uses. Default `"tsaio:"`. */
  keyPrefix?: string;
}

/** @internal The checked connection options. */
export interface ConnectionConfig {
  source: RedisConnection;
  connectTimeout: number;
  keyPrefix: string;
}

/** @internal Checks the shared options: a TypeError/RangeError naming the argument. */
export function connectionConfig(options: RedisConnectionOptions, fn: string): ConnectionConfig {
  const source = options.connection ?? "redis://127.0.0.1:6379";
  if (typeof source === "string") {
    let ok = false;
    try {
      const u = new URL(source);
      ok = u.protocol === "redis:" || u.protocol === "rediss:";
    } catch {
      ok = false;
    }
    if (!ok) throw new TypeError(`${fn}: \`connection\` must be a redis:// or rediss:// URL or an ioredis Redis client, got ${describe(source)}`);
  } else if (!(source instanceof Redis)) {
    throw new TypeError(`${fn}: \`connection\` must be a redis:// URL or an ioredis Redis client, got ${describe(source)}`);
  }
  const connectTimeout = options.connectTimeout ?? 5000;
  if (typeof connectTimeout !== "number") throw new TypeError(`${fn}: \`connectTimeout\` must be a number of milliseconds, got ${describe(connectTimeout)}`);
  if (!Number.isFinite(connectTimeout) || connectTimeout <= 0) throw new RangeError(`${fn}: \`connectTimeout\` must be a finite number > 0 milliseconds, got ${connectTimeout}`);
  const keyPrefix = options.keyPrefix ?? "tsaio:";
  if (typeof keyPrefix !== "string") throw new TypeError(`${fn}: \`keyPrefix\` must be a string, got ${describe(keyPrefix)}`);
  return { source, connectTimeout, keyPrefix };
}

/** @internal Checks a key name (a lock's, a semaphore's…): a non-empty string. */
export function checkName(name: unknown, fn: string): asserts name is string {
  if (typeof name !== "string") throw new TypeError(`${fn}: \`name\` must be a non-empty string, got ${describe(name)}`);
  if (name === "") throw new RangeError(`${fn}: \`name\` must be a non-empty string, got the empty string`);
}

/** @internal A random id naming one acquisition (its owner in Redis). */
export function newOwnerId(): string {
  return `${PROCESS_ID}${(++ownerCount).toString(36)}`;
}
// Unique across processes (random) and within one (a counter); no colon (the scripts split on it).
const PROCESS_ID = randomBytes(9).toString("base64url");
let ownerCount = 0;

// Our own connections: fail fast while disconnected (we wait for `ready` ourselves, with a deadline),
// never replay a command after a reconnect, and keep reconnecting (a backoff capped at 500 ms, and at
// a quarter of connectTimeout, so that a call waiting for Redis to come back sees a few attempts).
function ownOptions(connectTimeout: number): Partial<RedisOptions> {
  const cap = Math.max(10, Math.min(500, connectTimeout / 4));
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (times: number) => Math.min(times * 50, cap),
    lazyConnect: false,
    connectTimeout,
    // Keys are named by our own `keyPrefix` option; a client's ioredis keyPrefix would reach the
    // scripts' KEYS but not their ARGV (the channel), so it is not used.
    keyPrefix: "",
  };
}

/** A call in flight, for the watchdog. */
interface Watched {
  readonly deadline: number;
  readonly c: Redis;
  readonly what: string;
  readonly reject: (e: unknown) => void;
  done: boolean;
}

/** A script run with EVALSHA, loaded with EVAL when the server does not know it yet. */
export interface Script {
  readonly lua: string;
  readonly sha: string;
}

/** @internal A local listener of one pub/sub channel: `fired` is set by a message (or a resubscription). */
export class Listener {
  fired = false;
  /** @internal Called when it fires (the waiter's wake-up). */
  _onFire: (() => void) | null = null;
  constructor(
    readonly _link: Link,
    readonly channel: string,
  ) {}
  /** @internal */
  _fire(): void {
    this.fired = true;
    const f = this._onFire;
    if (f !== null) f();
  }
  /** Stops listening; the channel is unsubscribed when its last listener closes. */
  close(): void {
    this._link._unlisten(this);
  }
}

/** @internal One shared pair of connections (commands, pub/sub). */
export class Link {
  refs = 0;
  readonly cmd: Redis;
  sub: Redis | null = null;
  lastError: Error | undefined = undefined;
  /** Commands sent (attempts included): what the tests count to show that waiters do not poll. */
  commands = 0;
  private readonly _listeners = new Map<string, Set<Listener>>();
  private readonly _subscribed = new Map<string, Promise<void>>();
  private _closed = false;

  constructor(
    readonly key: string,
    readonly config: ConnectionConfig,
  ) {
    const opts = ownOptions(config.connectTimeout);
    this.cmd = typeof config.source === "string" ? new Redis(config.source, opts) : config.source.duplicate(opts);
    this.cmd.on("error", (e: Error) => (this.lastError = e));
  }

  /** "host:port" of the server, for messages. */
  get target(): string {
    const o = this.cmd.options;
    return `${o.host ?? "127.0.0.1"}:${o.port ?? 6379}`;
  }

  get closed(): boolean {
    return this._closed;
  }

  /**
   * Runs `op` on the command connection (or the pub/sub one with `onSub`) under the rules of the
   * module comment; `what` names the call in errors (`RedisLock.acquire`). Returns a native promise:
   * the primitives turn it into a tsaio future (a cancellation point). The common case — a ready
   * connection, a reply in time — costs one promise and an entry in the watchdog's set.
   */
  call<T>(what: string, op: (c: Redis) => Promise<T>, onSub = false): Promise<T> {
    const deadline = performance.now() + this.config.connectTimeout;
    if (!this._closed) {
      const c = onSub ? this._subConn() : this.cmd;
      if (c.status === "ready") return this._send(c, what, op, onSub, deadline);
    }
    return this._callSlow(what, op, onSub, deadline);
  }

  /** `call` when the connection is not ready (or a send failed): wait for it, up to `deadline`. */
  private async _callSlow<T>(what: string, op: (c: Redis) => Promise<T>, onSub: boolean, deadline: number): Promise<T> {
    if (this._closed) throw new Error(`${what}: the Redis connection was closed (close() was called)`);
    const c = onSub ? this._subConn() : this.cmd;
    if (c.status !== "ready") await this._ready(c, deadline, what);
    return this._send(c, what, op, onSub, deadline);
  }

  /**
   * Sends `op` on `c` (ready) and settles with its reply, or with a RedisUnavailableError at
   * `deadline` (then a connection that looked open is dropped and reconnected: a partition). A
   * connection error before the deadline retries through `_callSlow`.
   */
  private _send<T>(c: Redis, what: string, op: (c: Redis) => Promise<T>, onSub: boolean, deadline: number): Promise<T> {
    this.commands++;
    return new Promise<T>((resolve, reject) => {
      const w: Watched = { deadline, c, what, reject, done: false };
      this._watch(w);
      op(c).then(
        (v) => {
          if (w.done) return;
          w.done = true;
          this._watched.delete(w);
          resolve(v);
        },
        (e: unknown) => {
          if (w.done) return;
          w.done = true;
          this._watched.delete(w);
          // A reply error (NOSCRIPT, WRONGTYPE…) is Redis answering: not a connection problem.
          if ((e as Error).name === "ReplyError" || this._closed) return reject(e);
          this.lastError = e as Error;
          const left = deadline - performance.now();
          if (left <= 0) return reject(this._unavailable(what, `no reply within ${this.config.connectTimeout} ms (connectTimeout)`));
          // The connection may still say "ready" until its close event is processed: let I/O run
          // before looking again (a retry on a microtask would starve it).
          setTimeout(() => resolve(this._callSlow(what, op, onSub, deadline)), Math.min(20, Math.ceil(left)));
        },
      );
    });
  }

  /**
   * Calls in flight, checked by one timer while there are any (a timer per call would cost more than
   * the call: Node makes a timer list per distinct duration). A call fails at most `_tick` ms after
   * its deadline.
   */
  private readonly _watched = new Set<Watched>();
  private _watchTimer: NodeJS.Timeout | null = null;
  private get _tick(): number {
    return Math.max(5, Math.min(100, Math.round(this.config.connectTimeout / 10)));
  }

  private _watch(w: Watched): void {
    this._watched.add(w);
    if (this._watchTimer === null) this._watchTimer = setTimeout(this._check, this._tick);
  }

  private readonly _check = (): void => {
    this._watchTimer = null;
    const t = performance.now();
    const silent = new Set<Redis>();
    for (const w of this._watched) {
      if (w.deadline > t) continue;
      w.done = true;
      this._watched.delete(w);
      w.reject(this._unavailable(w.what, `no reply within ${this.config.connectTimeout} ms (connectTimeout)`));
      silent.add(w.c);
    }
    // The socket may look open while nothing comes back (a partition): start afresh.
    for (const c of silent) if (!this._closed && c.status === "ready") c.disconnect(true);
    if (this._watched.size > 0) this._watchTimer = setTimeout(this._check, this._tick);
  };

  /** Runs script `s` (EVALSHA, loading it when the server lacks it: ioredis' defineCommand does that). */
  evalScript<T>(c: Redis, s: Script, keys: string[], args: (string | number)[]): Promise<T> {
    const name = `tsaio_${s.sha.slice(0, 12)}`;
    const cmds = c as unknown as Record<string, (...a: (string | number)[]) => Promise<T>>;
    if (typeof cmds[name] !== "function") c.defineCommand(name, { lua: s.lua });
    return cmds[name](keys.length, ...keys, ...args);
  }

  /** Listens to `channel` (subscribing when it is the first local listener); `ready` settles once subscribed. */
  listen(channel: string): Listener {
    const l = new Listener(this, channel);
    let set = this._listeners.get(channel);
    if (set === undefined) {
      set = new Set();
      this._listeners.set(channel, set);
    }
    set.add(l);
    return l;
  }

  /** Subscribes `channel` on the pub/sub connection (once; under the call rules). */
  subscribed(channel: string, what: string): Promise<void> {
    let p = this._subscribed.get(channel);
    if (p === undefined) {
      p = this.call(
        what,
        async (c) => {
          await c.subscribe(channel);
        },
        true,
      );
      this._subscribed.set(channel, p);
      // A failed subscription is tried again by the next waiter (the error goes to this one's caller).
      p.catch(() => {
        if (this._subscribed.get(channel) === p) this._subscribed.delete(channel);
      });
    }
    return p;
  }

  /** @internal */
  _unlisten(l: Listener): void {
    const set = this._listeners.get(l.channel);
    if (set === undefined || !set.delete(l) || set.size > 0) return;
    this._listeners.delete(l.channel);
    const p = this._subscribed.get(l.channel);
    this._subscribed.delete(l.channel);
    const sub = this.sub;
    if (p !== undefined && sub !== null && sub.status === "ready") {
      // Best effort: a channel left subscribed only delivers messages nobody listens to, and ioredis
      // forgets it on the next reconnect anyway (it resubscribes the channels of its own set).
      p.then(
        () => (this._listeners.has(l.channel) ? undefined : sub.unsubscribe(l.channel)),
        () => undefined,
      ).catch((e: Error) => (this.lastError = e));
    }
  }

  /** Disconnects both connections at once (pending calls fail with "closed"). */
  close(): void {
    if (this._closed) return;
    this._closed = true;
    this.cmd.disconnect();
    this.sub?.disconnect();
    if (this._watchTimer !== null) clearTimeout(this._watchTimer);
    this._watchTimer = null;
    for (const set of this._listeners.values()) for (const l of set) l._fire();
    this._listeners.clear();
  }

  private _subConn(): Redis {
    if (this.sub === null) {
      // Our own resubscription: ioredis' autoResubscribe sends SUBSCRIBE without handling its
      // promise, so a connection that drops again at once made an unhandled rejection.
      const sub = this.cmd.duplicate({ ...ownOptions(this.config.connectTimeout), autoResubscribe: false });
      sub.on("error", (e: Error) => (this.lastError = e));
      sub.on("message", (channel: string) => {
        const set = this._listeners.get(channel);
        if (set !== undefined) for (const l of [...set]) l._fire();
      });
      // After a reconnect: subscribe again to the channels someone listens to, and wake every waiter
      // to look again (messages published while the subscription was down are lost).
      let first = true;
      sub.on("ready", () => {
        if (first) {
          first = false;
          return;
        }
        this._subscribed.clear();
        for (const channel of this._listeners.keys()) this.subscribed(channel, "resubscribe").catch((e: Error) => (this.lastError = e));
        for (const set of this._listeners.values()) for (const l of [...set]) l._fire();
      });
      this.sub = sub;
    }
    return this.sub;
  }

  private _ready(c: Redis, deadline: number, what: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        c.off("ready", onReady);
        c.off("end", onEnd);
      };
      const onReady = (): void => {
        done();
        resolve();
      };
      const onEnd = (): void => {
        done();
        reject(this._unavailable(what, "the connection ended"));
      };
      const timer = setTimeout(
        () => {
          done();
          reject(this._unavailable(what, `no connection within ${this.config.connectTimeout} ms (connectTimeout)`));
        },
        Math.max(0, deadline - performance.now()),
      );
      c.on("ready", onReady);
      c.on("end", onEnd);
      if (c.status === "wait") c.connect().catch((e: Error) => (this.lastError = e));
    });
  }

  private _unavailable(what: string, why: string): RedisUnavailableError {
    const last = this.lastError;
    return new RedisUnavailableError(`${what}: Redis at ${this.target} unreachable: ${why}${last === undefined ? "" : ` (last error: ${last.message})`}`, last);
  }
}

// Links shared by source and connectTimeout.
const links = new Map<RedisConnection, Map<number, Link>>();

/** @internal The shared link for `config` (one more reference: pair with `releaseLink`). */
export function takeLink(config: ConnectionConfig): Link {
  let byTimeout = links.get(config.source);
  if (byTimeout === undefined) {
    byTimeout = new Map();
    links.set(config.source, byTimeout);
  }
  let link = byTimeout.get(config.connectTimeout);
  if (link === undefined || link.closed) {
    link = new Link(typeof config.source === "string" ? config.source : "client", config);
    byTimeout.set(config.connectTimeout, link);
  }
  link.refs++;
  return link;
}

/** @internal Drops one reference; the last one disconnects the link. */
export function releaseLink(link: Link): void {
  if (--link.refs > 0) return;
  link.close();
  const byTimeout = links.get(link.config.source);
  if (byTimeout?.get(link.config.connectTimeout) === link) {
    byTimeout.delete(link.config.connectTimeout);
    if (byTimeout.size === 0) links.delete(link.config.source);
  }
}
