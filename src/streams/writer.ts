/**
 * `StreamWriter`: asyncio's writing half of a connection, over a Node socket.
 * @module
 */
import type { Socket } from "node:net";
import tls from "node:tls";
import { inspect } from "node:util";
import { InvalidStateError } from "../errors.js";
import { cancelOnAbort, PENDING, throwAtCall, WaiterFuture } from "../futures.js";
import { checkOptions, checkOptionalDelay, describe, signalOf } from "../internal/validate.js";
import { type DescribeOptions, FULL } from "../internal/describe.js";
import { abortedError, RESOLVED_VOID } from "../waiters.js";
import { runningLoop } from "../context.js";
import type { ReadOptions, StreamReader } from "./reader.js";
import { handshakeTimeoutError, type SslOption, sslOf } from "./tls.js";
import { type StreamTransport, untilEvent } from "./transport.js";

/** Waits until every byte written to the socket so far was handed to the kernel (a cancellation point). */
async function untilFlushed(t: StreamTransport, signal: AbortSignal | undefined): Promise<void> {
  const fut = new WaiterFuture<void>(t._loop, t);
  t._stream.write(EMPTY, () => {
    if (fut._state === PENDING) fut._resolve(undefined);
  });
  if (signal !== undefined) cancelOnAbort(fut, signal);
  await fut;
}

const EMPTY = Buffer.alloc(0);

/** Options of `writer.startTls()`. */
export interface StartTlsOptions {
  /** The name the server's certificate must match, and the SNI sent (client side). Default: none. */
  serverHostname?: string;
  /** How long the handshake may take, in ms (real time). Default 60 000, as asyncio's. */
  sslHandshakeTimeout?: number;
  /** Aborting it cancels the upgrade (the connection is closed). */
  signal?: AbortSignal;
}

/** Default of the `sslHandshakeTimeout` options: asyncio's 60 s. @internal */
export const SSL_HANDSHAKE_TIMEOUT = 60_000;

/**
 * The writing half of a connection (asyncio's `StreamWriter`): `write()` and `writelines()` queue
 * bytes at once; `await drain()` waits while the socket's buffer is over its high-water mark
 * (backpressure); `close()` flushes and closes; `await waitClosed()` waits until it is closed.
 * Made by `openConnection()`, `startServer()` and subprocess pipes. `await using` closes it.
 * @example
 * ```ts
 * import type { AddressInfo } from "node:net";
 * import { openConnection, startServer } from "tsaio";
 * await using server = await startServer(async (reader, writer) => {
 *   for await (const line of reader) writer.write(line.toString().toUpperCase());
 *   writer.close();
 * }, "127.0.0.1", 0);
 * const { port } = server.sockets[0]!.address() as AddressInfo;
 * const [reader, writer] = await openConnection("127.0.0.1", port);
 * writer.write("hello\n");
 * await writer.drain();
 * console.log((await reader.readline()).toString().trim()); // HELLO
 * writer.close();
 * await writer.waitClosed();
 * ```
 */
export class StreamWriter implements AsyncDisposable {
  /** @internal */ readonly _t: StreamTransport;
  /** @internal */ readonly _reader: StreamReader | null;

  /** @internal Made by openConnection(), startServer() and subprocesses. */
  constructor(transport: StreamTransport, reader: StreamReader | null) {
    this._t = transport;
    this._reader = reader;
  }

  /**
   * Queues `data` (bytes, or a string sent as UTF-8) for sending, without waiting; follow a batch of
   * writes with `await drain()`. The writes of one tick leave together (one `writev`) before Node
   * returns to its event loop. After the connection is lost the data is dropped (as asyncio does);
   * after `writeEof()` it is an `InvalidStateError`.
   */
  write(data: Uint8Array | string): void {
    if (typeof data !== "string" && !(data instanceof Uint8Array)) {
      throw new TypeError(`StreamWriter.write: \`data\` must be a Uint8Array, a Buffer or a string, got ${describe(data)}`);
    }
    const t = this._t;
    if (t._eofWritten) throw new InvalidStateError("StreamWriter.write() after writeEof()");
    if (t._closing || data.length === 0) return;
    t.write(data);
  }

  /** Queues every chunk of `data`, as `write()` does for each. */
  writelines(data: Iterable<Uint8Array | string>): void {
    if (data === null || typeof data !== "object" || typeof (data as Iterable<unknown>)[Symbol.iterator] !== "function") {
      throw new TypeError(`StreamWriter.writelines: \`data\` must be an iterable of Uint8Array or string, got ${describe(data)}`);
    }
    for (const chunk of data) this.write(chunk); // corked together until the end of the tick
  }

  /**
   * Waits until the socket's write buffer is below its high-water mark (at once if it is). Rejects
   * with the connection's error (Node's code: EPIPE, ECONNRESET…) once it is lost, and with the
   * reader's error if the connection failed. A cancellation point; `signal` cancels the wait.
   */
  drain(options?: ReadOptions): Promise<void> {
    const signal = options === undefined ? undefined : signalOf(options, "StreamWriter.drain");
    if (signal !== undefined && signal.aborted) return Promise.reject(abortedError(signal));
    throwAtCall();
    const r = this._reader;
    if (r !== null && r._exception !== null) return Promise.reject(r._exception);
    const t = this._t;
    if (t._lost) return Promise.reject(t._lostError());
    // Closing: wait for the close (asyncio yields so that connection_lost runs, then raises).
    if (!t._closing && !t._stream.destroyed && !t._stream.writableNeedDrain) return RESOLVED_VOID;
    return t._drainList().add(runningLoop(), signal);
  }

  /** Whether `writeEof()` is possible: yes for TCP, unix sockets and pipes, no over TLS (as asyncio). */
  canWriteEof(): boolean {
    return !this._t._tls;
  }

  /**
   * Sends EOF after the data written (the socket's write side is shut down; reading goes on: a
   * half-close). Nothing after close(); `InvalidStateError` over TLS.
   */
  writeEof(): void {
    const t = this._t;
    if (t._closing || t._eofWritten) return;
    if (t._tls) throw new InvalidStateError("StreamWriter.writeEof(): not supported over TLS (canWriteEof() is false)");
    t._eofWritten = true;
    t._uncork();
    t._stream.end();
  }

  /** Flushes what was written, then closes the connection (the reader then sees EOF). Idempotent. */
  close(): void {
    this._t.close();
  }

  /**
   * Closes at once, dropping what was not sent yet (asyncio's `writer.transport.abort()`): for a
   * peer that does not read.
   */
  abort(): void {
    this._t.abort();
  }

  /** Whether the connection is closed or closing. */
  isClosing(): boolean {
    return this._t._closing || this._t._stream.destroyed;
  }

  /**
   * Waits until the connection is closed (call `close()` first). Rejects with the error the
   * connection failed with, if any (asyncio's rule). A cancellation point; `signal` cancels the wait.
   */
  waitClosed(options?: ReadOptions): Promise<void> {
    const signal = options === undefined ? undefined : signalOf(options, "StreamWriter.waitClosed");
    if (signal !== undefined && signal.aborted) return Promise.reject(abortedError(signal));
    throwAtCall();
    const t = this._t;
    if (t._lost) return t._error === null ? RESOLVED_VOID : Promise.reject(t._error);
    return t._closeList().add(runningLoop(), signal);
  }

  /**
   * Information about the connection, by asyncio's names: `"peername"` and `"sockname"` (`[address,
   * port]` for TCP, the path for unix sockets), `"socket"` (the Node `net.Socket`/`tls.TLSSocket`),
   * `"sslcontext"` (the `tls.SecureContext`, over TLS), `"peercert"`, `"cipher"`, `"ssl_object"` (the
   * TLSSocket). `defaultValue` for the others, or when the information is not available.
   */
  getExtraInfo(name: string, defaultValue?: unknown): unknown {
    if (typeof name !== "string") throw new TypeError(`StreamWriter.getExtraInfo: \`name\` must be a string, got ${describe(name)}`);
    const t = this._t;
    if (Object.hasOwn(t._extra, name)) return t._extra[name];
    const s = t._stream;
    switch (name) {
      case "socket":
        return s;
      case "sockname":
        return s.localAddress === undefined ? defaultValue : [s.localAddress, s.localPort];
      case "peername":
        return s.remoteAddress === undefined ? defaultValue : [s.remoteAddress, s.remotePort];
      case "peercert":
        return s instanceof tls.TLSSocket ? s.getPeerCertificate() : defaultValue;
      case "cipher":
        return s instanceof tls.TLSSocket ? s.getCipher() : defaultValue;
      case "ssl_object":
        return s instanceof tls.TLSSocket ? s : defaultValue;
      default:
        return defaultValue;
    }
  }

  /**
   * Upgrades the connection to TLS (asyncio 3.11's `start_tls`): waits for the buffer to drain,
   * then runs the handshake over the same socket — as the TLS server if the connection was accepted
   * by `startServer()`, as the client otherwise. The reader and writer keep working, now over TLS.
   * A cancellation point (a cancelled or failed handshake closes the connection).
   */
  async startTls(ssl: SslOption, options?: StartTlsOptions): Promise<void> {
    const s = sslOf(ssl, "StreamWriter.startTls");
    if (s === null) throw new TypeError("StreamWriter.startTls: `ssl` must be true, a tls.SecureContext or tls options");
    checkOptions(options, "StreamWriter.startTls");
    const serverHostname = options?.serverHostname;
    if (serverHostname !== undefined && typeof serverHostname !== "string") {
      throw new TypeError(`StreamWriter.startTls: \`serverHostname\` must be a string, got ${describe(serverHostname)}`);
    }
    checkOptionalDelay(options?.sslHandshakeTimeout, "StreamWriter.startTls", "sslHandshakeTimeout");
    const timeoutMs = options?.sslHandshakeTimeout ?? SSL_HANDSHAKE_TIMEOUT;
    const signal = signalOf(options, "StreamWriter.startTls");
    if (signal !== undefined && signal.aborted) throw abortedError(signal);
    throwAtCall();
    await this.drain(signal === undefined ? undefined : { signal });
    const t = this._t;
    if (t._tls) throw new InvalidStateError("StreamWriter.startTls(): the connection already runs TLS");
    if (t._closing) throw t._lost ? t._lostError() : new InvalidStateError("StreamWriter.startTls(): the connection is closing");
    // Everything written in plaintext must be on the wire before the handshake takes the socket over.
    t._uncork();
    if (t._stream.writableLength > 0) await untilFlushed(t, signal);
    const raw = t._detach();
    let sock: tls.TLSSocket;
    let event: string;
    if (t._serverSide) {
      sock = new tls.TLSSocket(raw, { isServer: true, secureContext: s.context, ...s.options });
      event = "secure";
    } else {
      sock = tls.connect({ socket: raw, secureContext: s.context, ...s.options, ...(serverHostname === undefined ? {} : { servername: serverHostname }) });
      event = "secureConnect";
    }
    t._tls = true;
    t._extra.sslcontext = s.context;
    // From now on the TLS socket is the connection (also if the handshake fails: its close is the end).
    t._attach(sock as Socket);
    await untilEvent(t._loop, sock, event, t, signal, timeoutMs, () => handshakeTimeoutError(timeoutMs), () => sock.destroy());
  }

  /** `await using writer`: closes, then waits until closed (ignoring the connection's error). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    if (this._t._lost) return;
    try {
      await this.waitClosed();
    } catch {
      // the connection's own error: nothing to clean up
    }
  }

  /** @internal Its describer (see internal/describe.ts): the peer, flags, bytes buffered (a count), drain waiters. */
  _describe(_o: DescribeOptions): string {
    const t = this._t;
    let s = "<StreamWriter";
    if (t._label !== "") s += ` ${t._label}`;
    if (t._tls) s += " tls";
    if (t._lost) s += " closed";
    else if (t._closing) s += " closing";
    else if (t._eofWritten) s += " eof";
    const pending = t._stream.writableLength;
    if (pending > 0) s += ` buffered=${pending}`;
    if (t._drainWaiters !== null && t._drainWaiters.nIn > 0) s += ` drainers=${t._drainWaiters.nIn}`;
    return s + ">";
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}
