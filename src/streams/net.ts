/**
 * TCP and unix-socket connections and servers with asyncio's stream API: `openConnection`,
 * `openUnixConnection`, `startServer`, `startUnixServer`, `Server`.
 *
 * ## Structured serving (beyond asyncio)
 * asyncio's `serve_forever()`, when cancelled, closes the listening sockets and waits for the
 * connections to go — but leaves the handler tasks running, so `wait_closed()` can wait forever on a
 * handler stuck in a read. Here, as in Trio's `serve_tcp`, cancelling `serveForever()` (or the task
 * running it, or a `timeout()` around it), or leaving `await using server`, also cancels the handler
 * tasks still running and waits for them; then the connections left open are closed (flushing what
 * was written to them; those still open after 2 s, a peer that does not read, are aborted) and it
 * waits until they are gone. Nothing outlives the server's scope.
 * @module
 */
import { existsSync, lstatSync, unlinkSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";
import { inspect } from "node:util";
import { runningLoop } from "../context.js";
import { CancelledError, InvalidStateError } from "../errors.js";
import { cancelOnAbort, PENDING, throwAtCall, WaiterFuture } from "../futures.js";
import { checkCount, checkFunction, checkOptionalDelay, checkOptions, describe, signalOf } from "../internal/validate.js";
import { type DescribeOptions, FULL } from "../internal/describe.js";
import { abortedError, plainResume, WaiterList } from "../waiters.js";
import type { Loop } from "../loop.js";
import type { Task } from "../tasks.js";
import { checkLimit, DEFAULT_LIMIT, StreamReader } from "./reader.js";
import { LongTimeout } from "../internal/timers.js";
import { handshakeTimeoutError, type Ssl, type SslOption, sslOf } from "./tls.js";
import { StreamTransport, untilEvent } from "./transport.js";
import { SSL_HANDSHAKE_TIMEOUT, StreamWriter } from "./writer.js";

/** How long the structured shutdown lets the connections flush before aborting them (real time). */
const SHUTDOWN_GRACE = 2_000;

/** Options common to `openConnection()` and `openUnixConnection()`. */
export interface ConnectOptions {
  /** The reader's line limit and flow-control mark (see `StreamReader`). Default 64 KiB. */
  limit?: number;
  /** TLS: `true` (Node's default trust), a `tls.SecureContext`, or `node:tls` options (`ca`, `cert`, `key`, `rejectUnauthorized`…). */
  ssl?: SslOption;
  /** The name the server's certificate must match and the SNI sent. Default: `host` when it is not an IP address. */
  serverHostname?: string;
  /** How long connect + TLS handshake may take, in ms (real time). Default 60 000 (asyncio's). */
  sslHandshakeTimeout?: number;
  /** Aborting it cancels the connect (the socket is destroyed). */
  signal?: AbortSignal;
}

/** Options of `openConnection()`. */
export interface OpenConnectionOptions extends ConnectOptions {
  /** The local address to bind before connecting. */
  localAddress?: string;
  /** The local port to bind. */
  localPort?: number;
  /** 4 or 6 to force the address family; 0 (default) for either. */
  family?: 0 | 4 | 6;
  /** `TCP_NODELAY`: default true, as asyncio sets it on every TCP connection. */
  noDelay?: boolean;
  /** Enables TCP keep-alive probes. Default false. */
  keepAlive?: boolean;
}

/** What a server calls for each connection, in a new task: asyncio's `client_connected_cb`. */
export type ConnectionHandler = (reader: StreamReader, writer: StreamWriter) => unknown;

/** Options common to `startServer()` and `startUnixServer()`. */
export interface ServeOptions {
  /** Each connection's reader limit (see `StreamReader`). Default 64 KiB. */
  limit?: number;
  /** TLS: a `tls.SecureContext` or `node:tls` server options (`key`, `cert`, `requestCert`…). */
  ssl?: SslOption;
  /** How long a client's TLS handshake may take, in ms. Default 60 000 (asyncio's). */
  sslHandshakeTimeout?: number;
  /** The listen backlog. Default 511 (Node's; asyncio's is 100). */
  backlog?: number;
  /** Aborting it cancels the start (nothing stays listening). */
  signal?: AbortSignal;
}

/** Options of `startServer()`. */
export interface StartServerOptions extends ServeOptions {
  /** Listen on IPv6 only (no dual-stack) when the host is `::`. Default false. */
  ipv6Only?: boolean;
  /** `TCP_NODELAY` on accepted connections: default true (asyncio's). */
  noDelay?: boolean;
  /** TCP keep-alive on accepted connections. Default false. */
  keepAlive?: boolean;
}

// ------------------------------------------------------------------------------------- checks

function checkHost(host: unknown, fnName: string): asserts host is string {
  if (typeof host !== "string") throw new TypeError(`${fnName}: \`host\` must be a string, got ${describe(host)}`);
  if (host === "") throw new RangeError(`${fnName}: \`host\` must not be empty`);
}

function checkPort(port: unknown, fnName: string, min: number): asserts port is number {
  if (typeof port !== "number") throw new TypeError(`${fnName}: \`port\` must be an integer, got ${describe(port)}`);
  if (!Number.isInteger(port) || port < min || port > 65535) throw new RangeError(`${fnName}: \`port\` must be an integer from ${min} to 65535, got ${port}`);
}

function checkPath(path: unknown, fnName: string): asserts path is string {
  if (typeof path !== "string") throw new TypeError(`${fnName}: \`path\` must be a string, got ${describe(path)}`);
  if (path === "") throw new RangeError(`${fnName}: \`path\` must not be empty`);
}

function checkBool(value: unknown, fnName: string, name: string): void {
  if (value !== undefined && typeof value !== "boolean") throw new TypeError(`${fnName}: \`${name}\` must be a boolean, got ${describe(value)}`);
}

interface Common {
  limit: number;
  ssl: Ssl | null;
  handshakeMs: number;
  signal: AbortSignal | undefined;
}

function commonOf(options: ConnectOptions | ServeOptions | undefined, fnName: string): Common {
  checkOptions(options, fnName);
  const limit = options?.limit === undefined ? DEFAULT_LIMIT : checkLimit(options.limit, fnName);
  const ssl = sslOf(options?.ssl, fnName);
  checkOptionalDelay(options?.sslHandshakeTimeout, fnName, "sslHandshakeTimeout");
  const signal = signalOf(options, fnName);
  return { limit, ssl, handshakeMs: options?.sslHandshakeTimeout ?? SSL_HANDSHAKE_TIMEOUT, signal };
}

// ---------------------------------------------------------------------------------- clients

/**
 * Connects to `host`:`port` over TCP (TLS with `ssl`) and returns the connection's reader and writer
 * (asyncio's `open_connection`). A cancellation point: cancelling the task (or `signal`, or a
 * `timeout()`) while it connects destroys the socket. Connection errors are Node's, with their
 * codes (`ECONNREFUSED`, `ENOTFOUND`, `ETIMEDOUT`…) and the address in the message.
 * @example
 * ```ts
 * import type { AddressInfo } from "node:net";
 * import { openConnection, startServer } from "tsaio";
 * await using server = await startServer(async (_reader, writer) => {
 *   writer.write("hello from the server\n");
 *   writer.close();
 * }, "127.0.0.1", 0);
 * const { port } = server.sockets[0]!.address() as AddressInfo;
 * const [reader, writer] = await openConnection("127.0.0.1", port);
 * console.log((await reader.read()).toString().trim()); // hello from the server
 * writer.close();
 * ```
 */
export async function openConnection(host: string, port: number, options?: OpenConnectionOptions): Promise<[StreamReader, StreamWriter]> {
  const fn = "openConnection";
  checkHost(host, fn);
  checkPort(port, fn, 1);
  const c = commonOf(options, fn);
  const o = options ?? {};
  if (o.localAddress !== undefined && typeof o.localAddress !== "string") throw new TypeError(`${fn}: \`localAddress\` must be a string, got ${describe(o.localAddress)}`);
  if (o.localPort !== undefined) checkPort(o.localPort, fn, 0);
  if (o.family !== undefined && o.family !== 0 && o.family !== 4 && o.family !== 6) throw new RangeError(`${fn}: \`family\` must be 0, 4 or 6, got ${String(o.family)}`);
  if (o.serverHostname !== undefined && typeof o.serverHostname !== "string") throw new TypeError(`${fn}: \`serverHostname\` must be a string, got ${describe(o.serverHostname)}`);
  checkBool(o.noDelay, fn, "noDelay");
  checkBool(o.keepAlive, fn, "keepAlive");
  if (c.signal !== undefined && c.signal.aborted) throw abortedError(c.signal);
  throwAtCall();
  const loop = runningLoop();
  const netOptions: net.TcpNetConnectOpts = {
    host,
    port,
    allowHalfOpen: true,
    noDelay: o.noDelay ?? true,
    keepAlive: o.keepAlive ?? false,
    ...(o.localAddress === undefined ? {} : { localAddress: o.localAddress }),
    ...(o.localPort === undefined ? {} : { localPort: o.localPort }),
    ...(o.family === undefined ? {} : { family: o.family }),
  };
  const label = `${host}:${port}`;
  return connect(loop, c, netOptions, label, o.serverHostname ?? (net.isIP(host) === 0 ? host : undefined), {});
}

/**
 * Connects to the unix socket at `path` and returns its reader and writer (asyncio's
 * `open_unix_connection`). A cancellation point, like `openConnection()`.
 * @example
 * ```ts
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { openUnixConnection, startUnixServer } from "tsaio";
 * const path = join(tmpdir(), `tsaio-example-${process.pid}.sock`);
 * await using _server = await startUnixServer(async (reader, writer) => {
 *   writer.write(await reader.readline());
 *   writer.close();
 * }, path);
 * const [reader, writer] = await openUnixConnection(path);
 * writer.write("echo\n");
 * console.log(JSON.stringify((await reader.readline()).toString())); // "echo\n"
 * writer.close();
 * ```
 */
export async function openUnixConnection(path: string, options?: ConnectOptions): Promise<[StreamReader, StreamWriter]> {
  const fn = "openUnixConnection";
  checkPath(path, fn);
  const c = commonOf(options, fn);
  if (options?.serverHostname !== undefined && typeof options.serverHostname !== "string") {
    throw new TypeError(`${fn}: \`serverHostname\` must be a string, got ${describe(options.serverHostname)}`);
  }
  if (c.signal !== undefined && c.signal.aborted) throw abortedError(c.signal);
  throwAtCall();
  return connect(runningLoop(), c, { path, allowHalfOpen: true }, path, options?.serverHostname, { peername: path, sockname: "" });
}

async function connect(
  loop: Loop,
  c: Common,
  netOptions: net.NetConnectOpts,
  label: string,
  servername: string | undefined,
  extra: Record<string, unknown>,
): Promise<[StreamReader, StreamWriter]> {
  const reader = new StreamReader({ limit: c.limit });
  let sock: net.Socket;
  let event: string;
  if (c.ssl !== null) {
    sock = tls.connect({ ...netOptions, secureContext: c.ssl.context, ...c.ssl.options, ...(servername === undefined ? {} : { servername }) } as tls.ConnectionOptions);
    event = "secureConnect";
    extra.sslcontext = c.ssl.context;
  } else {
    sock = net.connect(netOptions);
    event = "connect";
  }
  const owner = { _describe: () => `<connecting to ${label}>` }; // a describer (see internal/describe.ts)
  await untilEvent(loop, sock, event, owner, c.signal, c.ssl === null ? Infinity : c.handshakeMs, () => handshakeTimeoutError(c.handshakeMs), () => sock.destroy());
  const t = new StreamTransport(sock, reader, loop, { extra, label, tls: c.ssl !== null });
  return [reader, new StreamWriter(t, reader)];
}

// ---------------------------------------------------------------------------------- servers

/**
 * A listening server (asyncio 3.13's `Server`), made by `startServer()` / `startUnixServer()`. It
 * accepts connections as soon as it is made and runs the handler for each one in a new task.
 *
 * - `close()` stops listening and leaves the connections open; `closeClients()` closes them
 *   (flushing), `abortClients()` drops them; `waitClosed()` waits until the server is closed *and*
 *   every connection is gone.
 * - `serveForever()` waits until cancelled. Beyond asyncio (structured, as Trio's `serve_tcp`):
 *   cancelling it — or the task running it, or a `timeout()` around it — or leaving
 *   `await using server`, closes the server, **cancels the handler tasks still running and waits
 *   for them**, closes the connections left (aborting those that have not flushed after 2 s), and
 *   waits until they are gone.
 * - A handler that fails is reported to the loop's exception handler and its connection closed; a
 *   handler cancelled has its connection closed; one that returns leaves it open (asyncio's rules).
 * @example
 * ```ts
 * import type { AddressInfo } from "node:net";
 * import { openConnection, startServer, createTask, sleep } from "tsaio";
 * const server = await startServer(async (reader, writer) => {
 *   for await (const line of reader) writer.write(line); // echo
 *   writer.close();
 * }, "127.0.0.1", 0);
 * const serving = createTask(() => server.serveForever());
 * const { port } = server.sockets[0]!.address() as AddressInfo;
 * const [reader, writer] = await openConnection("127.0.0.1", port);
 * writer.write("ping\n");
 * console.log((await reader.readline()).toString().trim()); // ping
 * serving.cancel(); // closes the server, cancels the handler, closes the connection
 * await serving.then(() => {}, () => {});
 * console.log(server.isServing(), (await reader.read()).length); // false 0
 * await sleep(0);
 * ```
 */
export class Server implements AsyncDisposable {
  /** @internal */ readonly _loop: Loop;
  /** @internal */ _servers: net.Server[] | null;
  /** @internal */ readonly _handler: ConnectionHandler;
  /** @internal */ readonly _limit: number;
  /** @internal */ readonly _ssl: Ssl | null;
  /** @internal */ readonly _unix: string | null;
  /** @internal */ readonly _noDelay: boolean;
  /** @internal */ readonly _keepAlive: boolean;
  /** @internal */ _handshakeMs = SSL_HANDSHAKE_TIMEOUT;
  /** @internal Open connections (asyncio's `_clients`). */
  readonly _clients = new Set<StreamTransport>();
  /** @internal TLS connections still in their handshake (their raw sockets). */
  readonly _handshaking = new Set<net.Socket>();
  /** @internal Handler tasks still running. */
  readonly _tasks = new Set<Task<unknown>>();
  /** @internal */ _serving = false;
  /** @internal */ _servingForever: WaiterFuture<never> | null = null;
  /** @internal waitClosed() waiters; `_woken` once closed and empty (asyncio's `_waiters = None`). */
  readonly _closeWaiters: WaiterList;
  /** @internal */ _woken = false;
  /** @internal Waits for the handler tasks to finish (structured shutdown). */
  _tasksDone: WaiterFuture<void> | null = null;
  /** @internal */ _label = "";

  /** @internal Made by startServer() / startUnixServer(). */
  constructor(loop: Loop, handler: ConnectionHandler, limit: number, ssl: Ssl | null, unix: string | null, noDelay: boolean, keepAlive: boolean) {
    this._loop = loop;
    this._servers = [];
    this._handler = handler;
    this._limit = limit;
    this._ssl = ssl;
    this._unix = unix;
    this._noDelay = noDelay;
    this._keepAlive = keepAlive;
    this._closeWaiters = new WaiterList(this, plainResume);
  }

  /** The loop the handler tasks run on. */
  getLoop(): Loop {
    return this._loop;
  }

  /** Whether the server accepts connections (until `close()`). */
  isServing(): boolean {
    return this._serving;
  }

  /**
   * The listening Node servers (one per host); `sockets[0].address()` gives the port chosen for
   * port 0. Empty once closed.
   */
  get sockets(): readonly net.Server[] {
    return this._servers ?? [];
  }

  /**
   * Stops listening. Connections stay open (close them with `closeClients()`); `serveForever()`
   * ends (with `CancelledError`, as asyncio's). Idempotent.
   */
  close(): void {
    const servers = this._servers;
    if (servers === null) return;
    this._servers = null;
    for (const s of servers) s.close();
    this._serving = false;
    const f = this._servingForever;
    if (f !== null && f._state === PENDING) {
      this._servingForever = null;
      f.cancel();
    }
    if (this._idle()) this._wakeup();
  }

  /** Closes every connection, after sending what was written to it (asyncio 3.13). */
  closeClients(): void {
    for (const t of [...this._clients]) t.close();
  }

  /** Closes every connection at once, dropping unsent data (asyncio 3.13). */
  abortClients(): void {
    for (const t of [...this._clients]) t.abort();
  }

  /**
   * Waits until the server is closed and every connection is gone (asyncio 3.12.1+). A
   * cancellation point; `signal` cancels the wait.
   */
  waitClosed(options?: { signal?: AbortSignal }): Promise<void> {
    const signal = options === undefined ? undefined : signalOf(options, "Server.waitClosed");
    if (signal !== undefined && signal.aborted) return Promise.reject(abortedError(signal));
    throwAtCall();
    if (this._woken) return Promise.resolve();
    return this._closeWaiters.add(runningLoop(), signal);
  }

  /**
   * Serves until cancelled (or `close()`d): never returns normally. Cancelling it closes the server,
   * cancels and awaits the handler tasks, closes the connections left and waits until they are
   * gone, then raises the `CancelledError`. `InvalidStateError` if the server is closed or
   * already serving forever.
   */
  async serveForever(options?: { signal?: AbortSignal }): Promise<never> {
    const signal = options === undefined ? undefined : signalOf(options, "Server.serveForever");
    if (signal !== undefined && signal.aborted) throw abortedError(signal);
    throwAtCall();
    if (this._servingForever !== null) throw new InvalidStateError(`Server.serveForever(): ${inspect(this)} is already being awaited on serveForever()`);
    if (this._servers === null) throw new InvalidStateError(`Server.serveForever(): ${inspect(this)} is closed`);
    const fut = new WaiterFuture<never>(runningLoop(), this);
    this._servingForever = fut;
    if (signal !== undefined) cancelOnAbort(fut, signal);
    try {
      return await fut;
    } catch (e) {
      if (e instanceof CancelledError) {
        try {
          await this._shutdown();
        } catch {
          // cancelled again while shutting down: the handlers are cancelled already; the first
          // cancellation is the one raised
        }
      }
      throw e;
    } finally {
      if (this._servingForever === fut) this._servingForever = null;
    }
  }

  /** `await using server`: the structured shutdown (see the class). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this._shutdown();
  }

  /** @internal Close, cancel and await the handlers, close what is left, wait until all is gone. */
  async _shutdown(): Promise<void> {
    this.close();
    if (this._tasks.size > 0) {
      for (const task of this._tasks) task.cancel("server shut down");
      this._tasksDone ??= new WaiterFuture<void>(this._loop, this);
      await this._tasksDone;
    }
    for (const raw of [...this._handshaking]) raw.destroy();
    if (this._woken) return;
    // Close what is left, flushing what was written; a peer that does not read could hold that
    // forever, so whatever is still open after the grace period is aborted.
    this.closeClients();
    const grace = new LongTimeout(() => this.abortClients(), SHUTDOWN_GRACE, true);
    try {
      await this.waitClosed();
    } finally {
      grace.cancel();
    }
  }

  /** @internal A listening socket accepted `sock`. */
  _accept(sock: net.Socket, afterHandshake = false): void {
    const loop = this._loop;
    // A handshake that began before close() still makes a connection (asyncio attaches TLS
    // transports when they are made, before their handshake).
    if ((this._servers === null && !afterHandshake) || loop.isClosed()) {
      sock.destroy();
      return;
    }
    if (this._unix === null && !afterHandshake) {
      if (this._noDelay) sock.setNoDelay(true);
      if (this._keepAlive) sock.setKeepAlive(true);
    }
    const reader = new StreamReader({ limit: this._limit });
    const extra: Record<string, unknown> = {};
    let label: string;
    if (this._unix !== null) {
      extra.peername = "";
      extra.sockname = this._unix;
      label = `${this._unix} client`;
    } else {
      const addr = sock.remoteAddress;
      extra.peername = addr === undefined ? undefined : [addr, sock.remotePort];
      label = addr === undefined ? "(closed)" : `${addr.includes(":") ? `[${addr}]` : addr}:${sock.remotePort}`;
    }
    if (this._ssl !== null) extra.sslcontext = this._ssl.context;
    const t = new StreamTransport(sock, reader, loop, { extra, label, serverSide: true, tls: this._ssl !== null });
    if (t._lost) return;
    this._clients.add(t);
    t._onLost = this._detach;
    const writer = new StreamWriter(t, reader);
    const handler = this._handler;
    const task = loop.createTask(() => handler(reader, writer), { name: `connection ${label}` });
    this._tasks.add(task);
    task.addDoneCallback((done) => this._handlerDone(done, t));
  }

  /** @internal */
  private _handlerDone(task: Task<unknown>, t: StreamTransport): void {
    this._tasks.delete(task);
    if (task.cancelled()) t.close();
    else {
      const exception = task.exception();
      if (exception !== null) {
        this._loop.callExceptionHandler({ message: "Unhandled exception in the connection handler (client_connected_cb)", exception, task, transport: t });
        t.close();
      }
    }
    if (this._tasks.size === 0) {
      const f = this._tasksDone;
      if (f !== null) {
        this._tasksDone = null;
        if (f._state === PENDING) f._resolve(undefined);
      }
    }
  }

  /**
   * @internal A client connected to a TLS server: the handshake runs over `raw` (as `startTls()`
   * does), bounded by `sslHandshakeTimeout`; until it ends the socket counts as a connection
   * (`waitClosed()` waits for it, the structured shutdown destroys it).
   */
  _handshake(raw: net.Socket): void {
    const ssl = this._ssl as Ssl;
    if (this._servers === null || this._loop.isClosed()) {
      raw.destroy();
      return;
    }
    if (this._unix === null) {
      if (this._noDelay) raw.setNoDelay(true);
      if (this._keepAlive) raw.setKeepAlive(true);
    }
    this._handshaking.add(raw);
    const sock = new tls.TLSSocket(raw, { isServer: true, secureContext: ssl.context, ...ssl.options });
    const ms = this._handshakeMs;
    const timer = ms === Infinity ? null : new LongTimeout(() => sock.destroy(), ms, true);
    const end = (): void => {
      timer?.cancel();
      sock.removeListener("error", fail);
      sock.removeListener("close", fail);
      if (this._handshaking.delete(raw) && this._idle()) this._wakeup();
    };
    const fail = (): void => {
      end();
      sock.destroy(); // a failed handshake ends the connection (node:tls drops it too)
    };
    sock.on("error", fail);
    sock.once("close", fail);
    sock.once("secure", () => {
      end();
      // requestCert with rejectUnauthorized (its default): a client without a trusted certificate is refused.
      if (ssl.options.requestCert === true && ssl.options.rejectUnauthorized !== false && !clientVerified(sock)) sock.destroy();
      else this._accept(sock as net.Socket, true);
    });
  }

  /** @internal */
  private readonly _detach = (t: StreamTransport): void => {
    this._clients.delete(t);
    if (this._idle()) this._wakeup();
  };

  /** @internal Closed, and no connection left (asyncio's condition for waking `wait_closed`). */
  private _idle(): boolean {
    return this._servers === null && this._clients.size === 0 && this._handshaking.size === 0;
  }

  /** @internal */
  private _wakeup(): void {
    if (this._woken) return;
    this._woken = true;
    this._closeWaiters.wakeAll(undefined);
  }

  /** @internal Its describer (see internal/describe.ts): address, state, connection and handler counts. */
  _describe(_o: DescribeOptions): string {
    let s = `<Server ${this._label}`;
    s += this._serving ? " serving" : " closed";
    if (this._ssl !== null) s += " tls";
    if (this._clients.size > 0) s += ` clients=${this._clients.size}`;
    if (this._tasks.size > 0) s += ` handlers=${this._tasks.size}`;
    return s + ">";
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}

/**
 * Starts a TCP server on `host`:`port` (asyncio's `start_server`) and returns it, listening:
 * `handler(reader, writer)` runs in a new task for each connection. `host` may be a list of hosts
 * (one listening socket each) or null/undefined for every interface; `port` 0 picks a free port
 * (`server.sockets[0].address().port`). A cancellation point while it binds. Keep the server in
 * `await using` or `serveForever()` so that it and its connections are closed (see `Server`).
 * @example
 * ```ts
 * import type { AddressInfo } from "node:net";
 * import { openConnection, startServer } from "tsaio";
 * await using server = await startServer(async (reader, writer) => {
 *   const name = (await reader.readline()).toString().trim();
 *   writer.write(`hello, ${name}\n`);
 *   await writer.drain();
 *   writer.close();
 * }, "127.0.0.1", 0);
 * const { port } = server.sockets[0]!.address() as AddressInfo;
 * const [reader, writer] = await openConnection("127.0.0.1", port);
 * writer.write("Ada\n");
 * console.log((await reader.readline()).toString().trim()); // hello, Ada
 * writer.close();
 * ```
 */
export async function startServer(
  handler: ConnectionHandler,
  host?: string | readonly string[] | null,
  port?: number | null,
  options?: StartServerOptions,
): Promise<Server> {
  const fn = "startServer";
  checkFunction(handler, fn, "handler");
  let hosts: (string | undefined)[];
  if (host === undefined || host === null) hosts = [undefined];
  else if (Array.isArray(host)) {
    if (host.length === 0) throw new RangeError(`${fn}: \`host\` must not be an empty list`);
    for (const h of host) checkHost(h, fn);
    hosts = [...(host as string[])];
  } else {
    checkHost(host, fn);
    hosts = [host as string];
  }
  const p = port ?? 0;
  checkPort(p, fn, 0);
  const c = commonOf(options, fn);
  const o = options ?? {};
  if (o.backlog !== undefined) checkCount(o.backlog, fn, "backlog", 0);
  checkBool(o.ipv6Only, fn, "ipv6Only");
  checkBool(o.noDelay, fn, "noDelay");
  checkBool(o.keepAlive, fn, "keepAlive");
  if (c.signal !== undefined && c.signal.aborted) throw abortedError(c.signal);
  throwAtCall();
  const loop = runningLoop();
  const server = new Server(loop, handler, c.limit, c.ssl, null, o.noDelay ?? true, o.keepAlive ?? false);
  await listenAll(
    server,
    c,
    hosts.map((h) => ({ port: p, ...(h === undefined ? {} : { host: h }), backlog: o.backlog ?? 511, ipv6Only: o.ipv6Only ?? false })),
  );
  return server;
}

/**
 * Starts a server on the unix socket `path` (asyncio's `start_unix_server`): as `startServer()`. A
 * stale socket file left at `path` by a dead process is removed first (asyncio does too); the file
 * is removed when the server closes.
 * @example
 * ```ts
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { openUnixConnection, startUnixServer } from "tsaio";
 * const path = join(tmpdir(), `tsaio-doc-${process.pid}.sock`);
 * await using _server = await startUnixServer(async (_reader, writer) => {
 *   writer.write("welcome\n");
 *   writer.close();
 * }, path);
 * const [reader] = await openUnixConnection(path);
 * console.log((await reader.readline()).toString().trim()); // welcome
 * ```
 */
export async function startUnixServer(handler: ConnectionHandler, path: string, options?: ServeOptions): Promise<Server> {
  const fn = "startUnixServer";
  checkFunction(handler, fn, "handler");
  checkPath(path, fn);
  const c = commonOf(options, fn);
  if (options?.backlog !== undefined) checkCount(options.backlog, fn, "backlog", 0);
  if (c.signal !== undefined && c.signal.aborted) throw abortedError(c.signal);
  throwAtCall();
  removeStaleSocket(path);
  const server = new Server(runningLoop(), handler, c.limit, c.ssl, path, false, false);
  await listenAll(server, c, [{ path, backlog: options?.backlog ?? 511 }]);
  return server;
}

function removeStaleSocket(path: string): void {
  try {
    if (existsSync(path) && lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // listen() reports what is wrong with the path
  }
}

async function listenAll(server: Server, c: Common, listens: net.ListenOptions[]): Promise<void> {
  const loop = server._loop;
  const servers = server._servers as net.Server[];
  server._handshakeMs = c.handshakeMs;
  const onError = (err: unknown): void => {
    // An error after listening (an accept failing, e.g. EMFILE) must not kill the process.
    loop.callExceptionHandler({ message: "Server error", exception: err, server });
  };
  try {
    for (const opts of listens) {
      const s = net.createServer({ allowHalfOpen: true }, c.ssl === null ? (sock) => server._accept(sock) : (sock) => server._handshake(sock));
      servers.push(s);
      s.listen(opts);
      await untilListening(loop, s, server, c.signal);
      s.on("error", onError);
    }
  } catch (e) {
    server.close();
    throw e;
  }
  server._serving = true;
  server._label = servers.map((s) => labelOf(s.address())).join(",");
}

/**
 * Whether the client's certificate was verified. node:tls's own server checks this after the
 * handshake (OpenSSL accepts any certificate and Node judges it later); a TLSSocket made by hand has
 * to ask its handle. Fails closed if that handle ever changes shape.
 */
function clientVerified(sock: tls.TLSSocket): boolean {
  const h = (sock as unknown as { _handle?: { verifyError?: () => unknown } })._handle;
  if (h === undefined || typeof h.verifyError !== "function") return false;
  const err = h.verifyError();
  return err === null || err === undefined;
}

function labelOf(a: net.AddressInfo | string | null): string {
  if (a === null) return "?";
  if (typeof a === "string") return a;
  return `${a.family === "IPv6" ? `[${a.address}]` : a.address}:${a.port}`;
}

/** Waits for 'listening' (or the bind's error: EADDRINUSE, EACCES…): a cancellation point. */
async function untilListening(loop: Loop, s: net.Server, owner: object, signal: AbortSignal | undefined): Promise<void> {
  if (s.listening) return;
  const fut = new WaiterFuture<void>(loop, owner);
  const onOk = (): void => {
    if (fut._state === PENDING) fut._resolve(undefined);
  };
  const onErr = (e: unknown): void => {
    if (fut._state === PENDING) fut.setException(e);
  };
  s.once("listening", onOk);
  s.once("error", onErr);
  if (signal !== undefined) cancelOnAbort(fut, signal);
  try {
    await fut;
  } finally {
    s.removeListener("listening", onOk);
    s.removeListener("error", onErr);
  }
}
