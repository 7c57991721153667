/**
 * Python's `multiprocessing.connection`, async: {@link Connection} (`send`/`recv` of structured-clone
 * messages, `sendBytes`/`recvBytes`, `poll`), {@link Pipe}, {@link Listener} and {@link Client}.
 *
 * ## Transport
 * Between processes a connection is a Unix domain socket (a named pipe on Windows) in `os.tmpdir()`
 * carrying length-prefixed frames (a 4-byte little-endian length, then the bytes). `send` encodes
 * with tsaio/threading's codec on Pipe ends (plain data about 15× faster than `v8.serialize`, v8's
 * form for everything else: structured-clone semantics either way) and with `v8.serialize` on
 * Listener/Client connections; `recv` reads both. Small frames written in one turn of the event loop go out in one system call
 * (they are copied into a 64 KiB batch, flushed when full or on `setImmediate`). Opening a
 * connection runs a mutual HMAC-SHA256 challenge on the listener's `authkey` (as Python's
 * `deliver_challenge`/`answer_challenge`), so a process without the key cannot connect.
 *
 * `Pipe()` makes its two ends in this process, joined in memory (no socket, no system call). An end
 * given to a job of a `ProcessPoolExecutor` or `ThreadPoolExecutor` (or to a Process) is *moved*
 * there: its wire form is the address of this thread's hub (one listener per thread, made on first
 * use) with a one-time route and key; the worker connects back, and from then on this process
 * forwards the end's frames between the socket and its peer. Messages sent before the worker
 * connected wait for it. The moved end is closed here (like a transferred buffer).
 *
 * ## Lifetime
 * Sockets and listeners never keep the process alive by themselves (a finished program exits with
 * its connections open, as Python's does); a pending `recv`/`poll`/`accept` does. A peer that closes,
 * exits or is killed ends the stream: `recv` then fails with {@link EOFError} once the messages already
 * received are read, and `send` with {@link BrokenPipeError}.
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, unlinkSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { InvalidStateError, TimeoutError } from "../errors.js";
import { deserialize, serialize } from "node:v8";
import { decode, encodeScratch, scratch } from "../threading/codec.js";
import { throwAtCall } from "../futures.js";
import { Deque } from "../internal/ring.js";
import { type DescribeOptions, FULL } from "../internal/describe.js";
import { describe as describeValue } from "../internal/validate.js";
import { abortedNow, checkTimeout, checkWait, IoWait, WaitList, type WaitOptions } from "./wait.js";
import { JOB_DONE, registerReviver, WIRE, type ProcessWire } from "./wire.js";

export type { WaitOptions } from "./wait.js";

// ------------------------------------------------------------------------------ errors

/**
 * Raised by `recv`/`recvBytes` when the other end has closed (or its process died) and every
 * message it sent has been read: Python's `EOFError` from `Connection.recv()`.
 * @example
 * ```ts
 * import { Pipe, EOFError } from "tsaio/multiprocessing";
 * const [a, b] = Pipe();
 * b.close();
 * try { await a.recv(); } catch (e) { console.log(e instanceof EOFError); } // true
 * ```
 */
export class EOFError extends Error {
  override name = "EOFError";
}

/**
 * Raised by `send` when the other end is known to be closed: Python's `BrokenPipeError`.
 * @example
 * ```ts
 * import { Pipe, BrokenPipeError } from "tsaio/multiprocessing";
 * const [a, b] = Pipe();
 * b.close();
 * try { await a.send(1); } catch (e) { console.log(e instanceof BrokenPipeError); } // true
 * ```
 */
export class BrokenPipeError extends Error {
  override name = "BrokenPipeError";
}

/**
 * Raised by {@link Client} when the listener does not accept its `authkey` (or is not a tsaio
 * listener): Python's `multiprocessing.AuthenticationError`.
 * @example
 * ```ts
 * import { Listener, Client, AuthenticationError } from "tsaio/multiprocessing";
 * const listener = new Listener(undefined, { authkey: "secret" });
 * try { await Client(listener.address, { authkey: "wrong" }); } catch (e) { console.log(e instanceof AuthenticationError); } // true
 * listener.close();
 * ```
 */
export class AuthenticationError extends Error {
  override name = "AuthenticationError";
}

// ------------------------------------------------------------------------------ links

/** @internal Where the frames a link receives go. */
export interface Sink {
  _frame(p: Buffer): void;
  /** The stream ended: `err` null for a clean close. Called once. */
  _end(err: Error | null): void;
}

/** @internal One side of a byte-frame transport, as its user sees it. */
export interface Link {
  sink: Sink | null;
  /** Sends one frame (the bytes are copied or owned from now on: the caller must not reuse them). */
  write(p: Uint8Array): void;
  /** Sends a copy of `src[0, n)` (a scratch buffer the caller reuses). */
  writeCopy(src: Buffer, n: number): void;
  /** Graceful close: frames written before it still arrive; `err` tells an in-process peer why. */
  end(err?: Error): void;
  /** Too many bytes wait to be written: the writer should wait for {@link onDrain}. */
  congested(): boolean;
  onDrain(cb: () => void): void;
  describe(): string;
}

/** Two ends of an in-memory pair: a frame written on one is handed to the other's sink at once. */
class LocalLink implements Link {
  sink: Sink | null = null;
  peer!: LocalLink;
  private _ended = false;

  static pair(): [LocalLink, LocalLink] {
    const a = new LocalLink();
    const b = new LocalLink();
    a.peer = b;
    b.peer = a;
    return [a, b];
  }

  write(p: Uint8Array): void {
    if (this._ended || this.peer._ended) return;
    this.peer.sink?._frame(p as Buffer);
  }

  end(err?: Error): void {
    if (this._ended) return;
    this._ended = true;
    if (!this.peer._ended) this.peer.sink?._end(err ?? null);
  }

  writeCopy(src: Buffer, n: number): void {
    this.write(Buffer.from(src.subarray(0, n)));
  }

  congested(): boolean {
    return false;
  }

  onDrain(cb: () => void): void {
    cb();
  }

  describe(): string {
    return "in-process";
  }
}

const BATCH = 64 * 1024;
/** A frame this large is written on its own rather than copied into the batch. */
const BIG = 16 * 1024;
/** Bytes queued in the socket above which `send` waits for it to drain. */
const HIGH_WATER = 1 << 20;
/** Largest frame accepted (a length above it means a corrupt or foreign stream). */
const MAX_FRAME = 0x7fff_ffff;

/** @internal A socket carrying length-prefixed frames. */
export class SocketLink implements Link {
  sink: Sink | null = null;
  /** While the handshake runs: it gets the frames (and the end, besides `sink`). */
  hs: Sink | null = null;
  readonly sock: Socket;
  readonly label: string;
  private _batch: Buffer | null = null;
  private _pos = 0;
  private _flushing: NodeJS.Immediate | null = null;
  /** Frames written before the handshake ended (sent when it does); null once open. */
  private _held: Uint8Array[] | null = [];
  private _ended = false;
  private _done = false;
  private _error: Error | null = null;
  // the reader
  private _parts: Buffer[] = [];
  private _have = 0;
  private _need = 4;
  private _drainWaits: (() => void)[] = [];

  constructor(sock: Socket, label: string) {
    this.sock = sock;
    this.label = label;
    sock.unref();
    sock.on("data", (c: Buffer) => this._read(c));
    sock.on("error", (e: Error) => {
      this._error ??= e;
    });
    sock.on("close", () => this._closed());
    sock.on("drain", () => this._drained());
  }

  /** The handshake is over: frames written meanwhile go out now. */
  open(): void {
    const held = this._held;
    this._held = null;
    if (held !== null) for (const p of held) this.write(p);
    if (this._ended) this._finish();
  }

  write(p: Uint8Array): void {
    if (this._done) return;
    if (this._held !== null) {
      this._held.push(p);
      return;
    }
    this.raw(p);
  }

  writeCopy(src: Buffer, n: number): void {
    if (this._held === null && n < BIG) this.raw(src.subarray(0, n));
    else this.write(Buffer.from(src.subarray(0, n)));
  }

  /** Writes a frame now, handshake or not. */
  raw(p: Uint8Array): void {
    if (this._done || this.sock.destroyed) return;
    const n = p.byteLength;
    if (n > MAX_FRAME) throw new RangeError(`Connection.send: a message of ${n} bytes is over the limit of ${MAX_FRAME}`);
    if (n >= BIG) {
      this.flush();
      const h = Buffer.allocUnsafe(4);
      h.writeUInt32LE(n, 0);
      this.sock.cork();
      this.sock.write(h);
      this.sock.write(p);
      this.sock.uncork();
      return;
    }
    let b = this._batch;
    if (b === null || this._pos + 4 + n > BATCH) {
      this.flush();
      b = this._batch = Buffer.allocUnsafe(BATCH);
    }
    b.writeUInt32LE(n, this._pos);
    b.set(p, this._pos + 4);
    this._pos += 4 + n;
    this._flushing ??= setImmediate(this._flushSoon);
  }

  private readonly _flushSoon = (): void => {
    this._flushing = null;
    this.flush();
  };

  flush(): void {
    if (this._pos === 0 || this._batch === null) return;
    const b = this._batch.subarray(0, this._pos);
    this._batch = null;
    this._pos = 0;
    if (!this.sock.destroyed) this.sock.write(b);
  }

  end(): void {
    if (this._ended) return;
    this._ended = true;
    if (this._held === null) this._finish();
  }

  private _finish(): void {
    if (this._flushing !== null) {
      clearImmediate(this._flushing);
      this._flushing = null;
    }
    this.flush();
    this.sock.end();
  }

  /** Drops the connection at once. */
  destroy(err?: Error): void {
    this._error ??= err ?? null;
    this.sock.destroy();
  }

  congested(): boolean {
    return this.sock.writableLength > HIGH_WATER;
  }

  onDrain(cb: () => void): void {
    if (!this.congested() || this._done) cb();
    else this._drainWaits.push(cb);
  }

  private _drained(): void {
    const ws = this._drainWaits;
    this._drainWaits = [];
    for (const w of ws) w();
  }

  describe(): string {
    return this.label;
  }

  private _read(c: Buffer): void {
    if (this._parts.length > 0) {
      this._parts.push(c);
      this._have += c.length;
      if (this._have < this._need) return;
      c = Buffer.concat(this._parts, this._have);
      this._parts = [];
      this._have = 0;
    }
    let off = 0;
    const len = c.length;
    while (len - off >= 4) {
      const n = c.readUInt32LE(off);
      if (n > MAX_FRAME) {
        this.destroy(new EOFError(`Connection: corrupt stream (a frame of ${n} bytes)`));
        return;
      }
      if (len - off - 4 < n) break;
      const frame = c.subarray(off + 4, off + 4 + n);
      off += 4 + n;
      const s = this.hs ?? this.sink;
      if (s !== null) s._frame(frame);
      if (this._done) return;
    }
    if (off < len) {
      const rest = c.subarray(off);
      this._parts = [rest];
      this._have = rest.length;
      this._need = rest.length >= 4 ? 4 + rest.readUInt32LE(0) : 4;
    }
  }

  private _closed(): void {
    if (this._done) return;
    this._done = true;
    if (this._flushing !== null) {
      clearImmediate(this._flushing);
      this._flushing = null;
    }
    this._drained();
    this.hs?._end(this._error);
    this.sink?._end(this._error);
  }
}

// ------------------------------------------------------------------------------ handshake

const MAGIC = Buffer.from("tsaio-mp1\n");
const NONCE = 16;
const MAC = 32;
/** A client that has not answered the challenge by then is dropped. */
const HANDSHAKE_MS = 10_000;

/** An `authkey` option as bytes (empty: no key). */
function keyBytes(k: unknown, what: string): Buffer {
  if (k === undefined || k === null) return Buffer.alloc(0);
  if (typeof k === "string") return Buffer.from(k, "utf8");
  if (k instanceof Uint8Array) return Buffer.from(k);
  throw new TypeError(`${what}: \`authkey\` must be a string, a Uint8Array or null, got ${describeValue(k)}`);
}

function mac(key: Buffer, tag: string, nonce: Buffer): Buffer {
  return createHmac("sha256", key).update(tag).update(nonce).digest();
}

function same(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Listener side: challenge the client, prove our own key; calls `done(ok)` once. */
function serverHandshake(link: SocketLink, key: Buffer, done: (ok: boolean) => void): void {
  const nonce = randomBytes(NONCE);
  let over = false;
  const finish = (ok: boolean): void => {
    if (over) return;
    over = true;
    clearTimeout(timer);
    link.hs = null;
    if (!ok) link.destroy();
    done(ok);
  };
  const timer = setTimeout(() => finish(false), HANDSHAKE_MS).unref();
  link.hs = {
    _frame(p) {
      if (p.length !== MAC + NONCE || !same(p.subarray(0, MAC), mac(key, "client", nonce))) {
        link.raw(Buffer.from("no"));
        link.flush();
        finish(false);
        return;
      }
      link.raw(mac(key, "server", p.subarray(MAC)));
      finish(true);
    },
    _end() {
      finish(false);
    },
  };
  link.raw(Buffer.concat([MAGIC, nonce]));
}

/**
 * Client side: answer the challenge, check the listener's proof, then open the link (frames written
 * meanwhile go out). On failure the link is destroyed and its sink ends with the error.
 */
function clientHandshake(link: SocketLink, key: Buffer, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const nonce = randomBytes(NONCE);
    let step = 0;
    const fail = (e: Error): void => {
      step = 3;
      link.hs = null;
      link.destroy(e);
      reject(e);
    };
    link.hs = {
      _frame(p) {
        if (step === 0) {
          if (p.length !== MAGIC.length + NONCE || !same(p.subarray(0, MAGIC.length), MAGIC)) {
            fail(new AuthenticationError(`${what}: ${link.label} is not a tsaio Listener`));
            return;
          }
          step = 1;
          link.raw(Buffer.concat([mac(key, "client", p.subarray(MAGIC.length)), nonce]));
          return;
        }
        if (!same(p, mac(key, "server", nonce))) {
          fail(new AuthenticationError(`${what}: authentication with ${link.label} failed (wrong authkey)`));
          return;
        }
        step = 2;
        link.hs = null;
        link.open();
        resolve();
      },
      _end(err) {
        const was = step;
        if (was >= 2) return;
        step = 3;
        link.hs = null;
        if (was === 1 && err === null) reject(new AuthenticationError(`${what}: authentication with ${link.label} failed (wrong authkey)`));
        else reject(err ?? new EOFError(`${what}: ${link.label} closed the connection`));
      },
    };
  });
}


// ------------------------------------------------------------------------------ Connection

const WAS_CLOSED = "the connection is closed";

/** @internal The wire form of a moved {@link Connection}: where to connect, the key, the route. */
export interface ConnectionHandle {
  kind: "Connection";
  address: string;
  key: string;
  route: string;
  readable: boolean;
  writable: boolean;
  fast: boolean;
}

/**
 * One end of a connection (Python's `multiprocessing.connection.Connection`): `send` a message,
 * `recv` the next one (structured-clone semantics: Map, Set, Date, typed arrays, Errors, cycles…), or raw bytes with `sendBytes`/`recvBytes`. Made by {@link Pipe},
 * {@link Listener.accept} and {@link Client}. `T` types the messages (unchecked at run time).
 *
 * Every wait (`recv`, `recvBytes`, `poll`) is a tsaio cancellation point and takes `{ signal,
 * timeout }`. Given as an argument to an executor job (thread or process pool), a connection moves
 * to the job and is closed here. `await using` closes it.
 * @example
 * ```ts
 * import { Pipe } from "tsaio/multiprocessing";
 * const [a, b] = Pipe<{ n: number }>();
 * await a.send({ n: 42 });
 * console.log(await b.poll(), (await b.recv()).n); // true 42
 * a.close();
 * ```
 */
export class Connection<T = unknown> implements AsyncDisposable, Disposable {
  /** @internal */ _link: Link | null;
  /** @internal Frames received and not read yet. */
  readonly _inbox = new Deque<Buffer>();
  /** @internal The stream ended: null for a clean close, else why. */
  _eof: Error | null | undefined = undefined;
  /** @internal */ _closed = false;
  /** @internal */ _moved = false;
  /** @internal */ readonly _readable: boolean;
  /** @internal */ readonly _writable: boolean;
  /** @internal Pending `recv` (tag false) and `recvBytes` (tag true) waits, one FIFO. */
  readonly _recvs = new WaitList<unknown>();
  /** @internal */ readonly _polls = new WaitList<boolean>();
  /** @internal Moved: what forwards its frames. */
  _fwd: Forwarder | null = null;
  /** @internal */ _sent = 0;
  /** @internal */ _received = 0;

  /**
   * @internal Messages are encoded with tsaio/threading's codec (plain data ~15× faster than
   * `v8.serialize`, v8's form for the rest): Pipe ends. Listener/Client connections send v8's form
   * as such (a manager's server reads their frames itself). `recv` reads both.
   */
  readonly _fast: boolean;

  /** @internal Made by Pipe, Listener, Client or a reviver. */
  constructor(link: Link, readable = true, writable = true, fast = false) {
    this._link = link;
    this._readable = readable;
    this._writable = writable;
    this._fast = fast;
    link.sink = this;
  }

  /** Whether `close()` was called (or the connection was moved to a job). */
  get closed(): boolean {
    return this._closed;
  }

  /** Whether this end can receive (false for the write end of a one-way `Pipe(false)`). */
  get readable(): boolean {
    return this._readable;
  }

  /** Whether this end can send (false for the read end of a one-way `Pipe(false)`). */
  get writable(): boolean {
    return this._writable;
  }

  /**
   * Sends `obj` (structured clone). A value that cannot be cloned throws a `TypeError` here, at
   * the sender. Resolves at once unless a megabyte already waits to be written to the socket (then
   * once it drained). Throws {@link BrokenPipeError} once the other end is known to be closed.
   * @example
   * ```ts
   * import { Pipe } from "tsaio/multiprocessing";
   * const [a, b] = Pipe();
   * await a.send(new Map([["k", [1, 2]]]));
   * console.log(await b.recv()); // Map(1) { 'k' => [ 1, 2 ] }
   * ```
   */
  send(obj: T): Promise<void> {
    this._checkSend("send");
    const link = this._link as Link;
    try {
      if (this._fast) link.writeCopy(scratch(), encodeScratch(obj));
      else link.write(serialize(obj));
    } catch (e) {
      if (e instanceof RangeError) throw e;
      throw new TypeError(`Connection.send: \`obj\` cannot be cloned: ${(e as Error).message}`, { cause: e });
    }
    this._sent++;
    if (!link.congested()) return RESOLVED;
    return new Promise((resolve) => link.onDrain(resolve));
  }

  /**
   * Sends raw bytes (`buf`, or `size` bytes of it from `offset`), received whole by `recvBytes`.
   * @example
   * ```ts
   * import { Pipe } from "tsaio/multiprocessing";
   * const [a, b] = Pipe();
   * await a.sendBytes(new TextEncoder().encode("hello world"), 6);
   * console.log((await b.recvBytes()).toString()); // world
   * ```
   */
  sendBytes(buf: ArrayBufferView | ArrayBuffer, offset = 0, size?: number): Promise<void> {
    this._checkSend("sendBytes");
    let view: Uint8Array;
    if (buf instanceof ArrayBuffer) view = new Uint8Array(buf);
    else if (ArrayBuffer.isView(buf)) view = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    else throw new TypeError(`Connection.sendBytes: \`buf\` must be an ArrayBuffer or a typed array/DataView, got ${describeValue(buf)}`);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > view.length) throw new RangeError(`Connection.sendBytes: \`offset\` must be an integer in [0, ${view.length}], got ${describeValue(offset)}`);
    const n = size ?? view.length - offset;
    if (!Number.isSafeInteger(n) || n < 0 || offset + n > view.length) throw new RangeError(`Connection.sendBytes: \`size\` must be an integer in [0, ${view.length - offset}], got ${describeValue(size)}`);
    // A copy: the caller may reuse its buffer the moment this returns.
    return this._write(Buffer.from(view.subarray(offset, offset + n)));
  }

  /**
   * The next message, waiting for one. Rejects with {@link EOFError} when the other end closed and
   * every message was read, `TimeoutError` after `timeout` ms, `CancelledError` on the signal.
   * @example
   * ```ts
   * import { Pipe } from "tsaio/multiprocessing";
   * import { TimeoutError } from "tsaio";
   * const [a, b] = Pipe<string>();
   * setTimeout(() => void a.send("late"), 10);
   * console.log(await b.recv({ timeout: 5_000 })); // late
   * try { await b.recv({ timeout: 10 }); } catch (e) { console.log(e instanceof TimeoutError); } // true
   * ```
   */
  recv(options?: WaitOptions): Promise<T> {
    return this._recv(options, false, "recv") as Promise<T>;
  }

  /**
   * The next message as raw bytes (a Buffer), as sent by `sendBytes` (or the serialized form of a
   * `send`). Same errors and options as {@link recv}.
   * @example
   * ```ts
   * import { Pipe } from "tsaio/multiprocessing";
   * const [a, b] = Pipe();
   * await a.sendBytes(Uint8Array.of(1, 2, 3));
   * console.log(await b.recvBytes()); // <Buffer 01 02 03>
   * ```
   */
  recvBytes(options?: WaitOptions): Promise<Buffer> {
    return this._recv(options, true, "recvBytes") as Promise<Buffer>;
  }

  /**
   * Whether a message can be read without waiting (or the stream ended, so `recv` would not wait).
   * `timeout` (ms): wait up to this long for one — 0 by default (answer at once, as Python's
   * `poll()`), `null` for no limit.
   * @example
   * ```ts
   * import { Pipe } from "tsaio/multiprocessing";
   * const [a, b] = Pipe();
   * console.log(await b.poll()); // false
   * setTimeout(() => void a.send("x"), 5);
   * console.log(await b.poll(5_000)); // true
   * ```
   */
  poll(timeout: number | null = 0, options?: { signal?: AbortSignal }): Promise<boolean> {
    throwAtCall();
    const t = checkTimeout(timeout, "Connection.poll", "timeout");
    const { signal } = checkWait(options, "Connection.poll");
    this._checkRecv("poll");
    if (this._inbox.length > 0 || this._eof !== undefined) return Promise.resolve(true);
    if (signal?.aborted === true) return abortedNow(signal);
    if (t === 0) return Promise.resolve(false);
    const w = new IoWait<boolean>(this, signal, t, pollTimedOut);
    this._polls.add(w);
    return w.fut as unknown as Promise<boolean>;
  }

  /**
   * Closes this end: the other end reads what was sent before, then gets {@link EOFError}. Pending
   * waits on this end reject with `InvalidStateError`. Calling it again does nothing.
   * @example
   * ```ts
   * import { Pipe } from "tsaio/multiprocessing";
   * const [a, b] = Pipe();
   * a.close();
   * console.log(a.closed, b.closed); // true false
   * ```
   */
  close(): void {
    if (this._closed) return;
    this._closed = true;
    const link = this._link;
    this._link = null;
    this._inbox.clear();
    link?.end();
    const err = new InvalidStateError(`Connection: ${WAS_CLOSED} (closed while waiting)`);
    this._recvs.settleAll((w) => w.fut.setException(err));
    this._polls.settleAll((w) => w.fut.setException(err));
  }

  /** `using conn = …`: closes it at the end of the scope. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** `await using conn = …`: closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /** @internal */
  _describe(_o: DescribeOptions): string {
    const state = this._moved ? "moved" : this._closed ? "closed" : this._eof !== undefined ? "peer-closed" : "open";
    const dir = this._readable && this._writable ? "" : this._readable ? " read-only" : " write-only";
    const waits = this._recvs.count() + this._polls.count();
    const via = this._link === null ? "" : ` via=${this._link.describe()}`;
    return `<Connection ${state}${dir} unread=${this._inbox.length} sent=${this._sent} received=${this._received}${waits > 0 ? ` waiters=${waits}` : ""}${via}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }

  /** @internal The executors' argument hook: moves this end to a job (see the module notes). */
  [WIRE](): ProcessWire<ConnectionHandle> {
    return { $tsaioShared: import.meta.url, h: this._move(), process: true };
  }

  /**
   * @internal The job this end was moved to has ended: if its worker never connected (it died
   * first, or the job was cancelled before it started), none ever will, so the peer gets EOF after
   * a grace period (for a connection still on its way).
   */
  [JOB_DONE](): void {
    const fwd = this._fwd;
    if (fwd !== null && !fwd.attached) setTimeout(() => fwd.abandon(), ABANDON_MS).unref();
  }

  // -------------------------------------------------------------------- internals

  /** @internal */
  private _checkSend(what: string): void {
    if (this._closed) throw new InvalidStateError(`Connection.${what}: ${this._moved ? "the connection was moved to a job" : WAS_CLOSED}`);
    if (!this._writable) throw new InvalidStateError(`Connection.${what}: this end of a one-way Pipe is read-only`);
    if (this._eof !== undefined) throw new BrokenPipeError(`Connection.${what}: the other end is closed${this._eof === null ? "" : ` (${this._eof.message})`}`);
  }

  /** @internal */
  private _checkRecv(what: string): void {
    if (this._closed) throw new InvalidStateError(`Connection.${what}: ${this._moved ? "the connection was moved to a job" : WAS_CLOSED}`);
    if (!this._readable) throw new InvalidStateError(`Connection.${what}: this end of a one-way Pipe is write-only`);
  }

  /** @internal */
  private _write(bytes: Uint8Array): Promise<void> {
    const link = this._link as Link;
    link.write(bytes);
    this._sent++;
    if (!link.congested()) return RESOLVED;
    return new Promise((resolve) => link.onDrain(resolve));
  }

  /** @internal */
  private _recv(options: WaitOptions | undefined, bytes: boolean, what: string): Promise<unknown> {
    throwAtCall();
    const { signal, timeout } = checkWait(options, `Connection.${what}`);
    this._checkRecv(what);
    if (signal?.aborted === true) return abortedNow(signal);
    if (this._recvs.first() === undefined) {
      const p = this._inbox.shift();
      if (p !== undefined) {
        try {
          return Promise.resolve(decodeFrame(p, bytes));
        } catch (e) {
          return Promise.reject(e);
        }
      }
      if (this._eof !== undefined) return Promise.reject(eofError(this._eof, what));
    }
    const w = new IoWait<unknown>(this, signal, timeout, recvTimedOut, bytes);
    this._recvs.add(w);
    return w.fut as unknown as Promise<unknown>;
  }

  /** @internal Sink: a frame arrived. */
  _frame(p: Buffer): void {
    if (this._closed) return;
    this._received++;
    const w = this._recvs.take();
    if (w !== undefined) {
      try {
        w.fut.setResult(decodeFrame(p, w.tag as boolean));
      } catch (e) {
        w.fut.setException(e);
      }
    } else this._inbox.push(p);
    this._polls.settleAll((pw) => pw.fut.setResult(true));
  }

  /** @internal Sink: the stream ended. */
  _end(err: Error | null): void {
    if (this._eof !== undefined) return;
    this._eof = err;
    if (this._closed) return;
    this._recvs.settleAll((w) => w.fut.setException(eofError(err, (w.tag as boolean) ? "recvBytes" : "recv")));
    this._polls.settleAll((w) => w.fut.setResult(true));
  }

  /** @internal Hands this end to another thread or process: see the module notes. */
  _move(): ConnectionHandle {
    if (this._closed) throw new InvalidStateError(`Connection: ${this._moved ? "the connection was already moved to a job" : WAS_CLOSED}: it cannot be passed to a job`);
    const link = this._link as Link;
    const fwd = new Forwarder(link, this._inbox, this._eof);
    this._moved = true;
    this._closed = true;
    this._link = null;
    const err = new InvalidStateError("Connection: the connection was moved to a job while waiting");
    this._recvs.settleAll((w) => w.fut.setException(err));
    this._polls.settleAll((w) => w.fut.setException(err));
    link.sink = fwd;
    this._fwd = fwd;
    const h = hub();
    const route = (fwd.route = h.route((s) => fwd.attach(s), true));
    return { kind: "Connection", address: h.listener.address, key: h.keyHex, route, readable: this._readable, writable: this._writable, fast: this._fast };
  }
}

const RESOLVED: Promise<void> = Promise.resolve();
/** How long a moved end waits, after its job ended, for the job's connection still on its way. */
const ABANDON_MS = 5_000;

function decodeFrame(p: Buffer, bytes: boolean): unknown {
  // v8's form starts with its version tag (0xff); the codec's with 0 (plain) or 1 (v8's, wrapped).
  return bytes ? Buffer.from(p) : p[0] === 0xff ? deserialize(p) : decode(p);
}

function eofError(err: Error | null, what: string): EOFError {
  if (err === null) return new EOFError(`Connection.${what}: the other end closed the connection`);
  return new EOFError(`Connection.${what}: the connection ended: ${err.message}`, { cause: err });
}

function recvTimedOut(w: IoWait<unknown>): void {
  w.fut.setException(new TimeoutError(`Connection.${(w.tag as boolean) ? "recvBytes" : "recv"}: no message within the timeout`));
}

function pollTimedOut(w: IoWait<boolean>): void {
  w.fut.setResult(false);
}

/**
 * A moved end, in the process that moved it: the frames its peer sends wait here until the job
 * connects, then go to the job's socket; the job's frames go to the peer.
 */
class Forwarder implements Sink {
  private _to: SocketLink | null = null;
  route = "";
  private readonly _backlog: Deque<Buffer>;
  private _eof: Error | null | undefined;

  constructor(
    private readonly _link: Link,
    backlog: Deque<Buffer>,
    eof: Error | null | undefined,
  ) {
    this._backlog = new Deque<Buffer>();
    backlog.forEach((p) => this._backlog.push(p));
    backlog.clear();
    this._eof = eof;
  }

  get attached(): boolean {
    return this._to !== null;
  }

  /** Nobody will connect: the peer gets EOF. */
  abandon(): void {
    if (this._to !== null) return;
    hub().unroute(this.route);
    this._backlog.clear();
    this._link.end(new Error("the job this end was passed to ended without connecting to it"));
  }

  attach(s: SocketLink): void {
    this._to = s;
    const link = this._link;
    s.sink = {
      _frame: (p) => link.write(p),
      _end: () => link.end(),
    };
    for (let p = this._backlog.shift(); p !== undefined; p = this._backlog.shift()) s.write(p);
    if (this._eof !== undefined) s.end();
  }

  _frame(p: Buffer): void {
    if (this._to !== null) this._to.write(p);
    else this._backlog.push(p);
  }

  _end(err: Error | null): void {
    if (this._to !== null) this._to.end();
    else this._eof = err;
  }
}

// ------------------------------------------------------------------------------ Pipe

/**
 * A pair of connected {@link Connection}s (Python's `multiprocessing.Pipe`). `duplex` (default
 * true): both ends send and receive; false: the first end only receives, the second only sends.
 * Both ends start in this process; give one to a job (`pool.submit(fn, end)`) or a Process and it
 * moves there.
 * @example
 * ```ts
 * import { Pipe } from "tsaio/multiprocessing";
 * const [reader, writer] = Pipe<number>(false);
 * await writer.send(1);
 * writer.close();
 * console.log(await reader.recv(), reader.writable); // 1 false
 * ```
 */
export function Pipe<T = unknown>(duplex = true): [Connection<T>, Connection<T>] {
  if (typeof duplex !== "boolean") throw new TypeError(`Pipe: \`duplex\` must be a boolean, got ${describeValue(duplex)}`);
  const [l1, l2] = LocalLink.pair();
  return [new Connection<T>(l1, true, duplex, true), new Connection<T>(l2, duplex, true, true)];
}

// ------------------------------------------------------------------------------ Listener / Client

/** Options of {@link Listener}. */
export interface ListenerOptions {
  /** Clients must prove they hold this key (HMAC challenge). Default: none (anyone may connect). */
  authkey?: string | Uint8Array | null;
}

/** Options of {@link Client}. */
export interface ClientOptions extends WaitOptions {
  /** The listener's key. */
  authkey?: string | Uint8Array | null;
}

let nextAddress = 0;

/** A fresh address: a socket file in the temporary directory (a named pipe on Windows). */
function freshAddress(): string {
  const name = `tsaio-${process.pid}-${randomBytes(6).toString("hex")}-${nextAddress++}`;
  return process.platform === "win32" ? `\\\\.\\pipe\\${name}` : join(tmpdir(), `${name}.sock`);
}

/**
 * A server of connections (Python's `multiprocessing.connection.Listener`), on a Unix domain socket
 * (a named pipe on Windows): `address` is where {@link Client} connects. `accept()` yields each
 * client that passed the `authkey` challenge; a client that fails it is dropped (it gets an
 * `AuthenticationError`), so `accept` never fails because of a stranger. The listener does not keep
 * the process alive; a pending `accept` does. `close()` removes the socket file.
 * @example
 * ```ts
 * import { Listener, Client } from "tsaio/multiprocessing";
 * await using listener = new Listener(undefined, { authkey: "k" });
 * const [client, server] = await Promise.all([Client(listener.address, { authkey: "k" }), listener.accept()]);
 * await client.send("ping");
 * console.log(await server.recv()); // ping
 * client.close();
 * server.close();
 * ```
 */
export class Listener implements AsyncDisposable, Disposable {
  /** @internal */ readonly _server: Server;
  /** @internal */ readonly _address: string;
  /** @internal */ readonly _key: Buffer;
  /** @internal */ readonly _accepted = new Deque<SocketLink>();
  /** @internal */ readonly _accepts = new WaitList<Connection>();
  /** @internal */ _closed = false;
  /** @internal */ _error: Error | null = null;
  /** @internal When set, authenticated links go here instead of to `accept()` (the hub). */
  _onLink: ((link: SocketLink) => void) | null = null;
  /** @internal */ _nAccepted = 0;

  constructor(address?: string, options?: ListenerOptions) {
    if (address !== undefined && (typeof address !== "string" || address === "")) throw new TypeError(`Listener: \`address\` must be a non-empty string (a socket path), got ${describeValue(address)}`);
    if (options !== undefined && (options === null || typeof options !== "object")) throw new TypeError(`Listener: \`options\` must be an object, got ${describeValue(options)}`);
    this._key = keyBytes(options?.authkey, "Listener");
    if (address !== undefined && process.platform !== "win32" && existsSync(address)) throw new Error(`Listener: address already in use: ${address}`);
    const addr = (this._address = address ?? freshAddress());
    const server = (this._server = createServer({ allowHalfOpen: false }, (sock) => this._incoming(sock)));
    server.on("error", (e: Error) => this._fail(e));
    server.listen(addr);
    server.unref();
  }

  /** Where clients connect (a socket path, or a pipe name on Windows). */
  get address(): string {
    return this._address;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this._closed;
  }

  /**
   * The next client's connection, waiting for one (`{ signal, timeout }`: `TimeoutError` after
   * `timeout` ms). Rejects with `InvalidStateError` once closed.
   * @example
   * ```ts
   * import { Listener, Client } from "tsaio/multiprocessing";
   * const listener = new Listener();
   * const pending = Client(listener.address);
   * const conn = await listener.accept({ timeout: 5_000 });
   * console.log(conn.closed); // false
   * conn.close();
   * (await pending).close();
   * listener.close();
   * ```
   */
  accept(options?: WaitOptions): Promise<Connection> {
    throwAtCall();
    const { signal, timeout } = checkWait(options, "Listener.accept");
    if (this._closed) return Promise.reject(new InvalidStateError("Listener.accept: the listener is closed"));
    if (this._error !== null) return Promise.reject(this._error);
    if (signal?.aborted === true) return abortedNow(signal);
    const link = this._accepted.shift();
    if (link !== undefined) return Promise.resolve(adopt(link));
    const w = new IoWait<Connection>(this, signal, timeout, acceptTimedOut);
    this._accepts.add(w);
    return w.fut as unknown as Promise<Connection>;
  }

  /** Stops listening and removes the socket file; pending `accept`s reject. Calling it again does nothing. */
  close(): void {
    if (this._closed) return;
    this._closed = true;
    this._server.close();
    for (let l = this._accepted.shift(); l !== undefined; l = this._accepted.shift()) l.destroy();
    const err = new InvalidStateError("Listener.accept: the listener was closed while waiting");
    this._accepts.settleAll((w) => w.fut.setException(err));
  }

  /** `using listener = …`: closes it at the end of the scope. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** `await using listener = …`: closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /** @internal */
  _describe(_o: DescribeOptions): string {
    const waits = this._accepts.count();
    return `<Listener ${this._closed ? "closed" : this._error !== null ? "failed" : "listening"} address=${JSON.stringify(this._address)} accepted=${this._nAccepted} ready=${this._accepted.length}${waits > 0 ? ` waiters=${waits}` : ""}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }

  /** @internal */
  private _incoming(sock: Socket): void {
    if (this._closed) {
      sock.destroy();
      return;
    }
    const link = new SocketLink(sock, `listener ${this._address}`);
    serverHandshake(link, this._key, (ok) => {
      if (!ok || this._closed) {
        if (ok) link.destroy();
        return;
      }
      link.open();
      this._nAccepted++;
      if (this._onLink !== null) {
        this._onLink(link);
        return;
      }
      const w = this._accepts.take();
      if (w !== undefined) w.fut.setResult(new Connection(link));
      else {
        // Not accepted yet: what the client sends waits in the socket link until accept() binds it.
        link.sink = new Holding();
        this._accepted.push(link);
      }
    });
  }

  /** @internal */
  private _fail(e: Error): void {
    this._error = e;
    this._accepts.settleAll((w) => w.fut.setException(e));
  }
}

/** Frames of a connection not accepted yet: kept for the Connection `accept()` will make. */
class Holding implements Sink {
  readonly frames: Buffer[] = [];
  eof: Error | null | undefined = undefined;
  _frame(p: Buffer): void {
    this.frames.push(p);
  }
  _end(err: Error | null): void {
    this.eof = err;
  }
}

/** The Connection of an accepted link, with what its client sent before `accept()`. */
function adopt(link: SocketLink): Connection {
  const held = link.sink;
  const conn = new Connection(link);
  if (held instanceof Holding) {
    for (const p of held.frames) conn._frame(p);
    if (held.eof !== undefined) conn._end(held.eof);
  }
  return conn;
}

function acceptTimedOut(w: IoWait<Connection>): void {
  w.fut.setException(new TimeoutError("Listener.accept: no client within the timeout"));
}

/**
 * Connects to the {@link Listener} at `address` (Python's `multiprocessing.connection.Client`),
 * proving `authkey` to it. Rejects with {@link AuthenticationError} on a wrong key, with the socket
 * error (`ENOENT`, `ECONNREFUSED`…) when nothing listens there; `{ signal, timeout }` bound the wait.
 * @example
 * ```ts
 * import { Listener, Client } from "tsaio/multiprocessing";
 * const listener = new Listener(undefined, { authkey: "k" });
 * const client = await Client(listener.address, { authkey: "k", timeout: 5_000 });
 * const server = await listener.accept();
 * await server.send({ hello: "client" });
 * console.log(await client.recv()); // { hello: 'client' }
 * client.close();
 * server.close();
 * listener.close();
 * ```
 */
export function Client<T = unknown>(address: string, options?: ClientOptions): Promise<Connection<T>> {
  throwAtCall();
  if (typeof address !== "string" || address === "") throw new TypeError(`Client: \`address\` must be a non-empty string (a Listener's address), got ${describeValue(address)}`);
  const { signal, timeout } = checkWait(options, "Client");
  const key = keyBytes(options?.authkey, "Client");
  if (signal?.aborted === true) return abortedNow(signal);
  const w = new IoWait<Connection<T>>(CLIENT, signal, timeout, clientTimedOut);
  const link = new SocketLink(createConnection(address), `listener ${address}`);
  const conn = new Connection<T>(link);
  let connected = false;
  clientHandshake(link, key, "Client").then(
    () => {
      connected = true;
      if (w.pending) w.fut.setResult(conn);
      else conn.close();
    },
    (e: unknown) => {
      if (w.pending) w.fut.setException(e);
    },
  );
  // Timed out or cancelled before the handshake ended: drop the socket.
  w.fut._addEntry({ _onDone: () => void (connected || link.destroy()) });
  return w.fut as unknown as Promise<Connection<T>>;
}

/** The owner a pending Client() shows in task dumps. */
const CLIENT = { _describe: (): string => "<Client connecting>" };

function clientTimedOut(w: IoWait<unknown>): void {
  w.fut.setException(new TimeoutError("Client: not connected within the timeout"));
}

// ------------------------------------------------------------------------------ the hub

/**
 * @internal This thread's listener for moved objects: a route per moved Pipe end (used once) or per
 * served object (a multiprocessing Queue: used by every process that has it). A client names its
 * route in its first frame after the handshake.
 */
export class Hub {
  readonly listener: Listener;
  readonly keyHex: string;
  private readonly _routes = new Map<string, { fn: (link: SocketLink) => void; once: boolean }>();
  private _next = 0;

  constructor() {
    const key = randomBytes(32);
    this.keyHex = key.toString("hex");
    this.listener = new Listener(undefined, { authkey: key });
    this.listener._onLink = (link) => {
      link.sink = {
        _frame: (p) => {
          const r = this._routes.get(p.toString("latin1"));
          if (r === undefined) {
            link.end(); // gone, or already claimed
            return;
          }
          if (r.once) this._routes.delete(p.toString("latin1"));
          link.sink = null;
          r.fn(link);
        },
        _end: () => {},
      };
    };
    const path = this.listener.address;
    if (process.platform !== "win32") {
      process.once("exit", () => {
        try {
          unlinkSync(path);
        } catch {
          /* already gone */
        }
      });
    }
  }

  /** Adds a route: `fn` gets each link that names it. */
  route(fn: (link: SocketLink) => void, once: boolean): string {
    const id = `r${this._next++}`;
    this._routes.set(id, { fn, once });
    return id;
  }

  unroute(id: string): void {
    this._routes.delete(id);
  }
}

let theHub: Hub | null = null;

/** @internal This thread's hub, made on first use. */
export function hub(): Hub {
  return (theHub ??= new Hub());
}

/**
 * @internal Connects to route `route` of the hub at `address` (key `keyHex`). Usable at once: frames
 * written before the handshake ended are sent after it, behind the route frame. A failure ends the
 * link (its sink's `_end` gets the error).
 */
export function connectRoute(address: string, keyHex: string, route: string, what: string): SocketLink {
  const link = new SocketLink(createConnection(address), `hub ${address}`);
  link.write(Buffer.from(route, "latin1")); // first among the frames held until the handshake ends
  clientHandshake(link, Buffer.from(keyHex, "hex"), what).catch(() => undefined); // told through _end
  return link;
}

registerReviver<ConnectionHandle>(import.meta.url, (h) => {
  const link = connectRoute(h.address, h.key, h.route, "Connection");
  return new Connection(link, h.readable, h.writable, h.fast);
});
