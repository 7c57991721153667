/**
 * The introspection channel behind `tsaio ps [pid]` and `tsaio pstree <pid>`.
 *
 * Off by default: nothing listens unless the program calls `enableIntrospection()`, runs with
 * `TSAIO_INTROSPECT=1`, or is started by `tsaio run --introspect`. When on, the process listens on a
 * unix socket `<dir>/<pid>.sock` (mode 0600) inside a directory only its user can enter:
 * `$TMPDIR/tsaio-<uid>`, or `/tmp/tsaio-<uid>` when the first would make a socket path longer than
 * the system takes (107 bytes on Linux, 103 elsewhere: a longer one would be silently truncated and
 * the socket created somewhere else). The directory must be a real directory owned by the user with
 * mode 0700; if none is (another user made `/tmp/tsaio-<uid>` first, say), the program runs on
 * without introspection and a warning says why. Only the main thread listens.
 *
 * The server is built to be harmless to the program it lives in, whatever a client does:
 * - it never keeps a finished program alive (the server and every accepted socket are unref'd);
 * - a request is one short line (`ps`, `pstree`, `json` or `summary`, optionally followed by
 *   ` contents`): a client sending more than 1 KiB without a newline is dropped, a connection lasts
 *   at most 10 s, and at most 8 are open at once (see `limits`);
 * - the answers show what tasks wait on by state (sizes, counts), never contents (a queue's items),
 *   unless the request asks for `contents`;
 * - the socket is removed when the process exits and when SIGTERM kills it. With no SIGTERM
 *   listener of the program's own, SIGTERM still kills the process (the socket is removed, then the
 *   signal is raised again with its default action); with one, the program decides and the socket
 *   goes at exit. `tsaio ps` removes sockets whose process is gone.
 * @module
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync, unlinkSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMainThread } from "node:worker_threads";
import { liveLoops } from "../instrument.js";
import { pendingTasks } from "../tasks.js";
import { LongTimeout } from "../internal/timers.js";
import { describeWait, formatTaskTree, taskTree, type TreeOptions } from "./tree.js";

/** The server's limits (tests shorten them; they apply to servers and connections started after). @internal */
export const limits = {
  /** The longest request line the server reads (bytes); a client sending more is disconnected. */
  maxRequestBytes: 1024,
  /** How long a connection may last, request and answer included (ms); then it is closed. */
  connectionTimeoutMs: 10_000,
  /** Connections served at once; more are closed as they arrive. */
  maxConnections: 8,
};

let server: Server | null = null;
let socketPath: string | null = null;
let starting: Promise<string | null> | null = null;
const connections = new Set<Socket>();

function uid(): number {
  return typeof process.getuid === "function" ? process.getuid() : 0;
}

/** The most bytes a unix socket path may have here (`sun_path` less its NUL). @internal */
export function maxSocketPathBytes(): number {
  return process.platform === "linux" ? 107 : 103;
}

/**
 * The directories where this user's introspection sockets may be, in the order the server tries
 * them: `$TMPDIR/tsaio-<uid>`, then `/tmp/tsaio-<uid>` (short: the fallback for a long `$TMPDIR`).
 * @internal
 */
export function socketDirs(): string[] {
  const name = `tsaio-${uid()}`;
  const dirs = [join(tmpdir(), name)];
  if (process.platform !== "win32") {
    const short = join("/tmp", name);
    if (!dirs.includes(short)) dirs.push(short);
  }
  return dirs;
}

/** The socket paths process `pid` may listen on, in the order the server tries them. @internal */
export function socketPathsFor(pid: number): string[] {
  return socketDirs().map((dir) => join(dir, `${pid}.sock`));
}

/** Why `path` cannot be used as a socket path, or null if it can. */
function tooLong(path: string): string | null {
  const max = maxSocketPathBytes();
  const n = Buffer.byteLength(path);
  return n > max ? `${path} is ${n} bytes long, more than the ${max} a unix socket path may have` : null;
}

/**
 * Checks that `dir` is a real directory (not a symlink) owned by this user with mode 0700; makes it
 * (0700) when `create` and it is missing. Returns why not, or null when it is fine. @internal
 */
export function checkPrivateDir(dir: string, create: boolean): string | null {
  try {
    if (create) mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    if (!st.isDirectory()) return `${dir} is not a directory (${st.isSymbolicLink() ? "a symbolic link" : "a file"})`;
    if (st.uid !== uid()) return `${dir} belongs to another user (uid ${st.uid})`;
    if ((st.mode & 0o077) !== 0) return `${dir} has mode 0${(st.mode & 0o777).toString(8)}, not 0700 (fix: chmod 700 ${dir})`;
    return null;
  } catch (e) {
    return `${dir}: ${(e as Error).message}`;
  }
}

const CONTENTS = " contents";

/** What `ps` prints: one line per pending task of every open loop. */
export function formatPs(options: TreeOptions = {}): string {
  const lines = ["LOOP  TASK                            STATE       WAITING ON"];
  liveLoops().forEach((loop, i) => {
    const walk = (nodes: ReturnType<typeof taskTree>): void => {
      for (const n of nodes) {
        lines.push(`${String(i).padEnd(5)} ${n.name.padEnd(31)} ${n.state.padEnd(11)} ${describeWait(n.task, options)}`);
        walk(n.children);
      }
    };
    walk(taskTree(loop, options));
  });
  return lines.join("\n");
}

/** What `pstree` prints: the task tree of every open loop. */
export function formatPstree(options: TreeOptions = {}): string {
  const loops = liveLoops();
  if (loops.length === 0) return "(no open tsaio loop)";
  return loops.map((loop, i) => `loop ${i} (${loop.isVirtual() ? "virtual" : "real"} clock)\n${formatTaskTree(loop, options)}`).join("\n\n");
}

/** One line about this process for `tsaio ps` without a pid: its task count and command line. */
function summary(): string {
  let tasks = 0;
  for (const loop of liveLoops()) tasks += pendingTasks(loop).filter((t) => !t.done()).length;
  return JSON.stringify({ pid: process.pid, tasks, command: process.argv.slice(1).join(" ") });
}

/** The answer to one request line. @internal */
export function answer(request: string): string {
  let req = request.trim();
  const contents = req.endsWith(CONTENTS);
  if (contents) req = req.slice(0, -CONTENTS.length).trim();
  const options: TreeOptions = { contents };
  switch (req) {
    case "ps":
      return formatPs(options);
    case "pstree":
      return formatPstree(options);
    case "json":
      return JSON.stringify(
        liveLoops().map((loop) => {
          const conv = (nodes: ReturnType<typeof taskTree>): unknown[] =>
            nodes.map((n) => ({ name: n.name, state: n.state, waitingOn: n.waitingOn, children: conv(n.children) }));
          return conv(taskTree(loop, options));
        }),
      );
    case "summary":
      return summary();
    default:
      return `unknown request ${JSON.stringify(req.slice(0, 40))}: ps, pstree, json or summary (optionally followed by "contents")`;
  }
}

/** Serves one connection: one request line in, one answer out, within the limits above. */
function serve(sock: Socket): void {
  sock.unref(); // an idle client must not keep a finished program alive
  connections.add(sock);
  const deadline = new LongTimeout(() => sock.destroy(), limits.connectionTimeoutMs, true);
  const chunks: Buffer[] = [];
  let size = 0;
  const onData = (d: Buffer): void => {
    const nl = d.indexOf(10);
    const part = nl >= 0 ? d.subarray(0, nl) : d;
    size += part.byteLength;
    if (size > limits.maxRequestBytes) {
      sock.destroy(); // no request is this long: a client that sends it is not one of ours
      return;
    }
    chunks.push(part);
    if (nl < 0) return;
    sock.removeListener("data", onData);
    sock.pause(); // read nothing more
    let text: string;
    try {
      text = answer(Buffer.concat(chunks).toString("utf8"));
    } catch (e) {
      text = `error: ${(e as Error).message}`;
    }
    sock.end(text + "\n");
  };
  sock.on("data", onData);
  sock.on("finish", () => sock.destroy()); // answered: the client's side is of no further interest
  sock.on("error", () => sock.destroy());
  sock.on("close", () => {
    deadline.cancel();
    connections.delete(sock);
  });
}

function warn(message: string): void {
  process.emitWarning(message, { code: "TSAIO_INTROSPECTION_OFF" });
}

/**
 * Lets `tsaio ps <pid>` / `tsaio pstree <pid>` (same user only) read this process's tasks. Resolves
 * to the socket path, or to `null` when introspection cannot be turned on safely here (no private
 * directory for the socket, a path too long, a worker thread): the program then runs on without it,
 * and a process warning (code `TSAIO_INTROSPECTION_OFF`) says why. Idempotent.
 * @example
 * ```ts
 * import { enableIntrospection, disableIntrospection } from "tsaio";
 * const path = await enableIntrospection();
 * console.log(path === null || path.endsWith(`${process.pid}.sock`)); // true
 * await disableIntrospection();
 * ```
 */
export function enableIntrospection(): Promise<string | null> {
  if (server !== null) return Promise.resolve(socketPath);
  if (!isMainThread) return Promise.resolve(null); // the main thread's server answers for the process
  starting ??= start().finally(() => {
    starting = null;
  });
  return starting;
}

async function start(): Promise<string | null> {
  const problems: string[] = [];
  for (const dir of socketDirs()) {
    const path = join(dir, `${process.pid}.sock`);
    const why = tooLong(path) ?? checkPrivateDir(dir, true);
    if (why !== null) {
      problems.push(why);
      continue;
    }
    try {
      unlinkSync(path); // a stale socket of a previous process with our pid
    } catch {
      // none
    }
    const srv = createServer(serve);
    srv.maxConnections = limits.maxConnections;
    try {
      await new Promise<void>((resolve, reject) => {
        srv.once("error", reject);
        srv.listen(path, () => {
          srv.removeListener("error", reject);
          resolve();
        });
      });
      chmodSync(path, 0o600); // the directory already keeps others out; the socket does too
    } catch (e) {
      srv.close();
      problems.push(`cannot listen on ${path}: ${(e as Error).message}`);
      continue;
    }
    srv.on("error", () => {}); // accept errors (EMFILE…) must not crash the program
    srv.unref();
    server = srv;
    socketPath = path;
    process.once("exit", removeSocket);
    process.on("SIGTERM", onSigterm);
    return path;
  }
  warn(`tsaio: introspection is off, the program runs without it: ${problems.join("; ")}`);
  return null;
}

function removeSocket(): void {
  if (socketPath !== null) {
    try {
      unlinkSync(socketPath);
    } catch {
      // already gone
    }
  }
}

/**
 * SIGTERM: remove the socket, then let the signal do what it would have done. With another listener
 * (the program's own), the program decides and the exit listener removes the socket. Alone, this
 * listener steps aside and raises SIGTERM again: with no listener left Node restores the default
 * action, so the process dies of SIGTERM exactly as it would have without introspection.
 */
function onSigterm(): void {
  if (process.listenerCount("SIGTERM") > 1) return;
  removeSocket();
  process.removeListener("SIGTERM", onSigterm);
  process.kill(process.pid, "SIGTERM");
}

/**
 * Stops listening, closes the open connections and removes the socket.
 * @example
 * ```ts
 * import { disableIntrospection } from "tsaio";
 * await disableIntrospection(); // a no-op when it was never enabled
 * ```
 */
export async function disableIntrospection(): Promise<void> {
  if (starting !== null) await starting;
  const srv = server;
  server = null;
  for (const sock of connections) sock.destroy();
  if (srv !== null) await new Promise<void>((resolve) => srv.close(() => resolve()));
  removeSocket();
  socketPath = null;
  process.removeListener("exit", removeSocket);
  process.removeListener("SIGTERM", onSigterm);
}

/** A process that has (or had) an introspection socket, as `tsaio ps` without a pid lists it. @internal */
export interface SocketEntry {
  pid: number;
  path: string;
}

/**
 * The sockets of this user's processes, from every private socket directory. Sockets of processes
 * that are gone are removed (a crash, SIGKILL) and not listed. @internal
 */
export function listSockets(): SocketEntry[] {
  const out: SocketEntry[] = [];
  const seen = new Set<number>();
  for (const dir of socketDirs()) {
    if (checkPrivateDir(dir, false) !== null) continue; // missing, or not ours: nothing to trust there
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const m = /^(\d+)\.sock$/.exec(name);
      if (m === null) continue;
      const pid = Number(m[1]);
      const path = join(dir, name);
      if (!isAlive(pid)) {
        try {
          unlinkSync(path);
        } catch {
          // raced with another cleaner
        }
        continue;
      }
      if (!seen.has(pid)) {
        seen.add(pid);
        out.push({ pid, path });
      }
    }
  }
  return out.sort((a, b) => a.pid - b.pid);
}

/** Whether process `pid` exists (ours or not). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
