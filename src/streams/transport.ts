/**
 * The glue between a Node socket (TCP, unix, TLS, or a child's pipe) and a StreamReader/StreamWriter:
 * asyncio's transport and `StreamReaderProtocol` in one object.
 *
 * - `'data'` feeds the reader; `'end'` (the peer's EOF) feeds its EOF. Sockets are half-open
 *   (`allowHalfOpen`), as asyncio's (`eof_received` returns True): we may still write after it.
 * - `'close'` is asyncio's `connection_lost`: the reader gets the error the socket failed with, or
 *   its EOF; waiting `drain()`s and `waitClosed()`s are woken; the server forgets the connection.
 * - The reader pauses and resumes the socket through it (flow control).
 * - An `'error'` listener is always installed: an unhandled socket error would kill the process.
 * - Writes made in one go are sent in one go: the first write of a tick corks the socket and a
 *   `process.nextTick` uncorks it (Node's own idiom, as in its http module), so the lines a task
 *   writes during a loop iteration leave in one `writev` instead of one system call each. The
 *   uncork runs once the microtasks queued meanwhile have run (a whole loop iteration's steps),
 *   before Node goes back to its event loop: no data waits for I/O, a timer or the next iteration.
 * Internal: not part of the package's public API.
 * @module
 */
import type { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { inspect } from "node:util";
import { cancelOnAbort, PENDING, WaiterFuture } from "../futures.js";
import { LongTimeout } from "../internal/timers.js";
import { type DescribeOptions, FULL } from "../internal/describe.js";
import type { Waiter } from "../waiters.js";
import { WaiterList } from "../waiters.js";
import type { Loop } from "../loop.js";
import { connectionLost } from "./errors.js";
import type { ReadTransport, StreamReader } from "./reader.js";

/** @internal */
export class StreamTransport implements ReadTransport {
  _stream: Socket;
  readonly _reader: StreamReader | null;
  readonly _loop: Loop;
  /** close() or abort() was called, or the connection is lost (asyncio's `is_closing()`). */
  _closing = false;
  /** The socket closed (asyncio's `connection_lost` ran). */
  _lost = false;
  _eofWritten = false;
  /** The first error the socket reported. */
  _error: unknown = null;
  /** Waiting drain() and waitClosed() calls, made on first use. */
  _drainWaiters: WaiterList | null = null;
  _closeWaiters: WaiterList | null = null;
  /** Called once the connection is lost (a server forgets its client). */
  _onLost: ((t: StreamTransport) => void) | null = null;
  /** Extra information (`getExtraInfo`) that the socket cannot answer itself. */
  readonly _extra: Record<string, unknown>;
  /** What `inspect` shows as the peer. */
  _label: string;
  /** Accepted by a server (startTls() then acts as the TLS server). */
  readonly _serverSide: boolean;
  /** Whether TLS runs over the socket (asyncio: no write_eof over SSL). */
  _tls: boolean;
  /** The socket corked by the writes of this tick (uncorked on nextTick), or null. */
  _corked: Socket | null = null;

  constructor(stream: Socket, reader: StreamReader | null, loop: Loop, options: { extra?: Record<string, unknown>; label?: string; serverSide?: boolean; tls?: boolean }) {
    this._stream = stream;
    this._reader = reader;
    this._loop = loop;
    this._extra = options.extra ?? {};
    this._label = options.label ?? "";
    this._serverSide = options.serverSide ?? false;
    this._tls = options.tls ?? false;
    this._attach(stream);
    if (reader !== null) reader._setTransport(this);
  }

  /** @internal Listens to `stream` (also after startTls() replaced the socket). */
  _attach(stream: Socket): void {
    this._stream = stream;
    stream.on("error", this._onError);
    stream.on("close", this._onClose);
    stream.on("drain", this._onDrain);
    if (this._reader !== null) {
      stream.on("data", this._onData);
      stream.on("end", this._onEnd);
    }
    // A socket destroyed before we listened (an early reset) would never tell us.
    if (stream.destroyed) queueMicrotask(() => this._onClose());
  }

  /** @internal Stops listening to the current socket (startTls() hands it to a TLS socket). */
  _detach(): Socket {
    const s = this._stream;
    s.removeListener("close", this._onClose);
    s.removeListener("drain", this._onDrain);
    s.removeListener("data", this._onData);
    s.removeListener("end", this._onEnd);
    // The error listener stays: the raw socket must never emit an unhandled 'error'.
    return s;
  }

  pause(): void {
    this._stream.pause();
  }

  resume(): void {
    this._stream.resume();
  }

  private readonly _onData = (chunk: Buffer): void => {
    const r = this._reader as StreamReader;
    if (!r._eof) r.feedData(chunk);
  };

  private readonly _onEnd = (): void => {
    (this._reader as StreamReader).feedEof();
  };

  private readonly _onError = (err: unknown): void => {
    if (this._error === null) this._error = err;
  };

  private readonly _onDrain = (): void => {
    this._drainWaiters?.wakeAll(undefined);
  };

  /** asyncio's `connection_lost(exc)`. */
  private readonly _onClose = (): void => {
    if (this._lost) return;
    this._lost = true;
    this._closing = true;
    const r = this._reader;
    if (r !== null) {
      if (this._error !== null) r.setException(this._error);
      else if (!r._eof) r.feedEof();
      r._setTransport(null);
    }
    this._drainWaiters?.wakeAll(undefined);
    this._closeWaiters?.wakeAll(undefined);
    const cb = this._onLost;
    if (cb !== null) {
      this._onLost = null;
      cb(this);
    }
  };

  /** The error a write-side wait raises once the connection is lost. */
  _lostError(): unknown {
    return this._error ?? connectionLost();
  }

  /** Queues `data` on the socket, corked until the end of the tick (see the module comment). */
  write(data: Uint8Array | string): void {
    const s = this._stream;
    if (this._corked === null) {
      this._corked = s;
      s.cork();
      process.nextTick(uncork, this);
    }
    s.write(data);
  }

  /** Sends what the writes of this tick corked (also before a close or a TLS upgrade). */
  _uncork(): void {
    const s = this._corked;
    if (s !== null) {
      this._corked = null;
      s.uncork();
    }
  }

  /** Flushes what was written, then closes (asyncio's `transport.close()`). */
  close(): void {
    if (this._closing) return;
    this._closing = true;
    this._uncork();
    const s = this._stream;
    if (typeof s.destroySoon === "function") s.destroySoon();
    else {
      s.end();
      if (s.writableFinished) s.destroy();
      else s.once("finish", () => s.destroy());
    }
  }

  /** Closes at once, dropping what was not sent (asyncio's `transport.abort()`). */
  abort(): void {
    this._closing = true;
    this._stream.destroy();
  }

  /** @internal A write-side wait shows as `waiting on <StreamWriter 127.0.0.1:4000 closing>` (see internal/describe.ts). */
  _describe(_o: DescribeOptions): string {
    return `<StreamWriter${this._label === "" ? "" : " " + this._label}${this._lost ? " closed" : this._closing ? " closing" : ""}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }

  /** The drain() waiters, woken on 'drain' and 'close'. */
  _drainList(): WaiterList {
    return (this._drainWaiters ??= new WaiterList(this, settleOnLost));
  }

  /** The waitClosed() waiters, woken on 'close'. */
  _closeList(): WaiterList {
    return (this._closeWaiters ??= new WaiterList(this, settleOnLost));
  }
}

function uncork(t: StreamTransport): void {
  t._uncork();
}

/** A drain()/waitClosed() wait ended: once lost, the connection's error (or, for drain, "Connection lost"). */
function settleOnLost(w: Waiter, failed: boolean, err: unknown): void {
  const list = w._list;
  list.remove(w);
  if (failed) {
    w._rej(err);
    return;
  }
  const t = list.owner as StreamTransport;
  if (!t._lost) w._res(undefined);
  else if (list === t._closeWaiters) {
    if (t._error !== null) w._rej(t._error);
    else w._res(undefined);
  } else w._rej(t._lostError());
}

/**
 * Waits until `emitter` emits `event` (connect, secureConnect, secure, spawn): a cancellation point.
 * An `'error'` rejects with Node's error (its code, e.g. ECONNREFUSED, and the address in its
 * message); a `'close'` before `event` rejects too. On cancellation, `signal`, an error or
 * `timeoutMs` (real time: a handshake timeout) `destroy()` runs, so nothing leaks.
 * @internal
 */
export async function untilEvent(
  loop: Loop,
  emitter: EventEmitter,
  event: string,
  owner: object,
  signal: AbortSignal | undefined,
  timeoutMs: number,
  timeoutError: () => Error,
  destroy: () => void,
): Promise<void> {
  const fut = new WaiterFuture<void>(loop, owner);
  const onOk = (): void => {
    if (fut._state === PENDING) fut._resolve(undefined);
  };
  const onErr = (e: unknown): void => {
    if (fut._state === PENDING) fut.setException(e);
  };
  const onClose = (): void => {
    if (fut._state === PENDING) fut.setException(connectionLost());
  };
  emitter.once(event, onOk);
  emitter.on("error", onErr);
  emitter.once("close", onClose);
  const timer = timeoutMs === Infinity ? null : new LongTimeout(() => onErr(timeoutError()), timeoutMs, true);
  if (signal !== undefined) cancelOnAbort(fut, signal);
  try {
    await fut;
  } catch (e) {
    destroy();
    throw e;
  } finally {
    emitter.removeListener(event, onOk);
    emitter.removeListener("error", onErr);
    emitter.removeListener("close", onClose);
    timer?.cancel();
  }
}
