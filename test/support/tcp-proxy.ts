/**
 * A TCP proxy a test controls, to take a server (Redis) away from a client without stopping the server:
 * the machine's Redis is shared and must never be stopped.
 *
 *     const p = await TcpProxy.start({ host: "127.0.0.1", port: 6379 });
 *     const redis = new Redis(p.url);        // every byte goes through the proxy
 *     p.cut();                                // Redis "goes away": live connections die, new ones are reset
 *     p.cut({ mode: "blackhole" });           // a network partition: new connections are accepted, nothing flows
 *     p.restore();                            // Redis is back
 *     p.setLatency(100);                      // every chunk forwarded 100 ms late (a slow network)
 *     await p.close();
 *
 * Modes of `cut`:
 * - `"refuse"` (default): every live connection is destroyed; a new connection is accepted and reset at once,
 *   so the client sees ECONNRESET immediately (what a stopped server looks like to a reconnecting client).
 * - `"blackhole"`: a network partition. Live connections stay open but go silent (bytes are dropped both
 *   ways); new connections are accepted and then nothing is forwarded and nothing is closed. A client waits
 *   until its own timeout.
 *
 * `restore()` forwards again: blackholed connections (live or new) are destroyed then, so their clients
 * reconnect (the bytes they sent into the hole are gone, as TCP would have given up on them too).
 */
import net from "node:net";

export type CutMode = "refuse" | "blackhole";

export interface CutOptions {
  /** `"refuse"` (default) or `"blackhole"`. */
  mode?: CutMode;
}

interface Pair {
  client: net.Socket;
  server: net.Socket | undefined;
  /** Silenced: bytes in either direction are dropped. */
  holed: boolean;
}

export class TcpProxy {
  /** Connections accepted since start (including refused and blackholed ones). */
  accepted = 0;
  private readonly _pairs = new Set<Pair>();
  private _state: "open" | CutMode = "open";
  private _closed = false;
  private _latency = 0;

  private constructor(
    private readonly _server: net.Server,
    private readonly _target: { host: string; port: number },
    /** The port the proxy listens on (127.0.0.1). */
    readonly port: number,
  ) {}

  /** Starts a proxy on 127.0.0.1 and a free port, forwarding to `target`. */
  static async start(target: { host?: string; port: number }): Promise<TcpProxy> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    const address = server.address() as net.AddressInfo;
    const proxy = new TcpProxy(server, { host: target.host ?? "127.0.0.1", port: target.port }, address.port);
    server.on("connection", (socket) => proxy._accept(socket));
    return proxy;
  }

  /** Starts a proxy to the server of a `redis://host:port/db` URL; `url` keeps the db and credentials. */
  static async forUrl(url: string): Promise<TcpProxy> {
    const u = new URL(url);
    return TcpProxy.start({ host: u.hostname || "127.0.0.1", port: Number(u.port || 6379) });
  }

  /** A redis:// URL that connects through this proxy (to db 0; see `urlFor` to keep another URL's db/auth). */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** `url` with this proxy's host and port put in: keeps its scheme, credentials and db. */
  urlFor(url: string): string {
    const u = new URL(url);
    u.hostname = "127.0.0.1";
    u.port = String(this.port);
    return u.toString();
  }

  /** Live connections (client side) the proxy holds, forwarded or not. */
  get connections(): number {
    return this._pairs.size;
  }

  /** `"open"` while forwarding, else the mode of the cut. */
  get state(): "open" | CutMode {
    return this._state;
  }

  /**
   * Delays every chunk forwarded (both ways) by `ms` from now on (0: none), order kept: a slow
   * network, e.g. to cancel a call while its command is surely in flight.
   */
  setLatency(ms: number): void {
    if (typeof ms !== "number" || !(ms >= 0)) throw new RangeError(`TcpProxy.setLatency: \`ms\` must be a number >= 0, got ${String(ms)}`);
    this._latency = ms;
  }

  /** Takes the server away; see the module doc for the modes. */
  cut(options: CutOptions = {}): void {
    const mode = options.mode ?? "refuse";
    if (mode !== "refuse" && mode !== "blackhole") throw new TypeError(`TcpProxy.cut: mode must be "refuse" or "blackhole", got ${String(mode)}`);
    this._state = mode;
    for (const pair of [...this._pairs]) {
      if (mode === "blackhole") {
        pair.holed = true;
        // The server side is no longer needed; the client keeps an open socket that never answers.
        pair.server?.destroy();
        pair.server = undefined;
      } else this._drop(pair);
    }
  }

  /** Forwards again (new connections); blackholed connections are destroyed so their clients reconnect. */
  restore(): void {
    this._state = "open";
    for (const pair of [...this._pairs]) if (pair.holed) this._drop(pair);
  }

  /** Stops listening and destroys every connection. */
  async close(): Promise<void> {
    if (this._closed) return;
    this._closed = true;
    for (const pair of [...this._pairs]) this._drop(pair);
    await new Promise<void>((resolve) => this._server.close(() => resolve()));
  }

  private _accept(client: net.Socket): void {
    this.accepted++;
    client.setNoDelay(true);
    if (this._closed || this._state === "refuse") {
      client.on("error", () => {});
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = { client, server: undefined, holed: this._state === "blackhole" };
    this._pairs.add(pair);
    // Errors on either side end the pair: a proxy only relays a connection's death.
    client.on("error", () => this._drop(pair));
    client.on("close", () => this._drop(pair));
    if (pair.holed) {
      client.on("data", () => {}); // read and drop, so the client's writes do not back up visibly
      return;
    }
    const server = net.connect({ host: this._target.host, port: this._target.port });
    pair.server = server;
    server.setNoDelay(true);
    // A server socket the cut already detached (blackhole) ends without ending the client's side.
    const own = (): void => {
      if (pair.server === server) this._drop(pair);
    };
    server.on("error", own);
    server.on("close", own);
    // With a latency, chunks go through timers of equal delay, which fire in the order they were set.
    const forward = (write: () => void): void => {
      if (this._latency === 0) write();
      else setTimeout(write, this._latency);
    };
    client.on("data", (chunk: Buffer) => {
      forward(() => {
        if (!pair.holed) pair.server?.write(chunk);
      });
    });
    server.on("data", (chunk: Buffer) => {
      forward(() => {
        if (!pair.holed && !client.destroyed) client.write(chunk);
      });
    });
  }

  private _drop(pair: Pair): void {
    if (!this._pairs.delete(pair)) return;
    pair.server?.destroy();
    pair.client.destroy();
  }
}
