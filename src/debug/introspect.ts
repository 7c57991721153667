/**
 * The introspection channel behind `tsaio ps <pid>` and `tsaio pstree <pid>`.
 *
 * Off by default: nothing listens unless the program calls `enableIntrospection()`, runs with
 * `TSAIO_INTROSPECT=1`, or is started by `tsaio run --introspect`. When on, the process listens on a
 * unix socket `<tmpdir>/tsaio-<uid>/<pid>.sock` inside a directory only its user can enter (mode
 * 0700, checked), so only the same user can ask. The server is unref'd: it never keeps a finished
 * program alive. Requests are one line: `ps`, `pstree` or `json`.
 * @module
 */
import { lstatSync, mkdirSync, unlinkSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { liveLoops } from "../instrument.js";
import { describeWait, formatTaskTree, taskTree } from "./tree.js";

let server: Server | null = null;
let socketPath: string | null = null;

/** The directory holding this user's introspection sockets (made private if missing). */
export function socketDir(): string {
  const uid = typeof process.getuid === "function" ? process.getuid() : 0;
  return join(tmpdir(), `tsaio-${uid}`);
}

/** The socket path of process `pid`. */
export function socketPathFor(pid: number): string {
  return join(socketDir(), `${pid}.sock`);
}

function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const uid = typeof process.getuid === "function" ? process.getuid() : st.uid;
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) {
    throw new Error(`tsaio introspection: ${dir} must be a directory owned by you with mode 0700; refusing to listen`);
  }
}

/** What `ps` prints: one line per pending task of every open loop. */
export function formatPs(): string {
  const lines = ["LOOP  TASK                            STATE       WAITING ON"];
  liveLoops().forEach((loop, i) => {
    const walk = (nodes: ReturnType<typeof taskTree>): void => {
      for (const n of nodes) {
        lines.push(`${String(i).padEnd(5)} ${n.name.padEnd(31)} ${n.state.padEnd(11)} ${describeWait(n.task)}`);
        walk(n.children);
      }
    };
    walk(taskTree(loop));
  });
  return lines.join("\n");
}

/** What `pstree` prints: the task tree of every open loop. */
export function formatPstree(): string {
  const loops = liveLoops();
  if (loops.length === 0) return "(no open tsaio loop)";
  return loops.map((loop, i) => `loop ${i} (${loop.isVirtual() ? "virtual" : "real"} clock)\n${formatTaskTree(loop)}`).join("\n\n");
}

function answer(request: string): string {
  switch (request.trim()) {
    case "ps":
      return formatPs();
    case "pstree":
      return formatPstree();
    case "json":
      return JSON.stringify(
        liveLoops().map((loop) => {
          const conv = (nodes: ReturnType<typeof taskTree>): unknown[] =>
            nodes.map((n) => ({ name: n.name, state: n.state, waitingOn: n.waitingOn, children: conv(n.children) }));
          return conv(taskTree(loop));
        }),
      );
    default:
      return `unknown request ${JSON.stringify(request.trim())}: ps, pstree or json`;
  }
}

/**
 * Lets `tsaio ps <pid>` / `tsaio pstree <pid>` (same user only) read this process's tasks. Returns the
 * socket path. Idempotent.
 * @example
 * ```ts
 * import { enableIntrospection, disableIntrospection } from "tsaio";
 * const path = await enableIntrospection();
 * console.log(path.endsWith(`${process.pid}.sock`)); // true
 * await disableIntrospection();
 * ```
 */
export async function enableIntrospection(): Promise<string> {
  if (server !== null && socketPath !== null) return socketPath;
  ensurePrivateDir(socketDir());
  const path = socketPathFor(process.pid);
  try {
    unlinkSync(path); // a stale socket of a previous process with our pid
  } catch {
    // none
  }
  const srv = createServer((sock) => {
    sock.setEncoding("utf8");
    let buf = "";
    sock.on("data", (d: string) => {
      buf += d;
      const nl = buf.indexOf("\n");
      if (nl >= 0) sock.end(answer(buf.slice(0, nl)) + "\n");
    });
    sock.on("error", () => sock.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    srv.once("error", reject);
    srv.listen(path, () => resolve());
  });
  srv.unref();
  server = srv;
  socketPath = path;
  process.once("exit", removeSocket);
  return path;
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
 * Stops listening and removes the socket.
 * @example
 * ```ts
 * import { disableIntrospection } from "tsaio";
 * await disableIntrospection(); // a no-op when it was never enabled
 * ```
 */
export async function disableIntrospection(): Promise<void> {
  const srv = server;
  server = null;
  if (srv !== null) await new Promise<void>((resolve) => srv.close(() => resolve()));
  removeSocket();
  socketPath = null;
  process.removeListener("exit", removeSocket);
}
