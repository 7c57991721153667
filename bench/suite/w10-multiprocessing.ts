/**
 * W10 — tsaio/multiprocessing between two processes: a Pipe (W10a) and a Queue (W10b), against a raw
 * Node IPC channel and CPython 3.13's multiprocessing. Also the job module of its child side (the
 * exported functions run in a ProcessPoolExecutor worker).
 * @module
 */
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ProcessPoolExecutor, workerModule } from "../../src/index.js";
import { Pipe, type Connection } from "../../src/multiprocessing/connection.js";
import { Queue } from "../../src/multiprocessing/queue.js";
import { now, type Sample } from "../tools/lib.js";
import type { CaseDef, GoalDef, Side, Workload } from "./model.js";

const here = dirname(fileURLToPath(import.meta.url));
const PY_SCRIPT = join(here, "..", "multiprocessing_cpython.py");

/** The message every side moves. */
export interface Item {
  id: number;
  name: string;
}

// ------------------------------------------------------------------------------ the child's jobs

/** Child side of a Pipe run: says ready, receives `n` messages, answers [count, inOrder]. */
export async function pipeChild(conn: Connection<Item | string | [number, boolean]>, n: number): Promise<void> {
  await conn.send("ready");
  let inOrder = true;
  for (let i = 0; i < n; i++) if (((await conn.recv()) as Item).id !== i) inOrder = false;
  await conn.send([n, inOrder]);
  conn.close();
}

/** Child side of a Queue run: says ready over `done`, gets `n` items, answers [count, inOrder]. */
export async function queueChild(q: Queue<Item>, done: Connection<string | [number, boolean]>, n: number): Promise<void> {
  await done.send("ready");
  let inOrder = true;
  for (let i = 0; i < n; i++) if ((await q.get()).id !== i) inOrder = false;
  await done.send([n, inOrder]);
  done.close();
}

const jobs = workerModule<typeof import("./w10-multiprocessing.js")>(new URL(import.meta.url));

// ------------------------------------------------------------------------------ the sides

function check(r: unknown, n: number, what: string): void {
  const [count, inOrder] = r as [number, boolean];
  if (count !== n || !inOrder) throw new Error(`W10 ${what}: lost or reordered messages`);
}

/** tsaio: a Pipe end moved to a warm process worker; `n` sends, then the child's answer. */
export async function pipeRun(pool: ProcessPoolExecutor, n: number): Promise<Sample> {
  const [a, b] = Pipe<Item | string | [number, boolean]>();
  const job = pool.submit(jobs.fns.pipeChild, b, n);
  if ((await a.recv()) !== "ready") throw new Error("W10 pipe: no ready");
  const t0 = now();
  for (let i = 0; i < n; i++) await a.send({ id: i, name: "item-" + i });
  check(await a.recv(), n, "pipe");
  const ms = now() - t0;
  await job;
  a.close();
  return { ms, us: (ms * 1000) / n };
}

/** tsaio: a Queue owned here, its consumer a warm process worker. */
export async function queueRun(pool: ProcessPoolExecutor, n: number): Promise<Sample> {
  const q = new Queue<Item>();
  const [a, b] = Pipe<string | [number, boolean]>();
  const job = pool.submit(jobs.fns.queueChild, q, b, n);
  if ((await a.recv()) !== "ready") throw new Error("W10 queue: no ready");
  const t0 = now();
  for (let i = 0; i < n; i++) await q.put({ id: i, name: "item-" + i });
  check(await a.recv(), n, "queue");
  const ms = now() - t0;
  await job;
  q.close();
  a.close();
  return { ms, us: (ms * 1000) / n };
}

const IPC_CHILD = `
let n = 0, expect = 0, inOrder = true;
process.on("message", (m) => {
  if (typeof m === "number") { expect = m; n = 0; inOrder = true; process.send("ready"); return; }
  if (m.id !== n) inOrder = false;
  if (++n === expect) process.send([n, inOrder]);
});`;

let ipc: ChildProcess | null = null;

/** The floor: Node's own IPC channel to a forked child (advanced serialization), one send per message. */
export async function ipcRun(n: number): Promise<Sample> {
  const child = (ipc ??= spawn(process.execPath, ["-e", IPC_CHILD], { serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"] }));
  const reply = (): Promise<unknown> => new Promise((resolve) => child.once("message", resolve));
  const ready = reply();
  child.send(n);
  await ready;
  const t0 = now();
  const done = reply();
  for (let i = 0; i < n; i++) child.send({ id: i, name: "item-" + i });
  check(await done, n, "ipc");
  const ms = now() - t0;
  return { ms, us: (ms * 1000) / n };
}

/** Finds CPython 3.13 the way bench/multiprocessing_cpython.py re-executes itself. */
export function findPython(): { exe: string; version: string } | { exe: null; why: string } {
  const exe = process.env.BENCH_PYTHON ?? "python3";
  const r = spawnSync(exe, [PY_SCRIPT, "pipe", "10"], { encoding: "utf8" });
  if (r.status !== 0) return { exe: null, why: (r.stderr || r.error?.message || "no output").trim() };
  return { exe, version: (JSON.parse(r.stdout) as { python: string }).python };
}

/** One CPython run: a fresh interpreter and child process. */
export function pythonRun(exe: string, kase: "pipe" | "queue", n: number): Promise<Sample> {
  return new Promise((resolve, reject) => {
    execFile(exe, [PY_SCRIPT, kase, String(n)], { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`multiprocessing_cpython.py ${kase} failed: ${stderr || err.message}`));
      else {
        const ms = (JSON.parse(stdout) as { ms: number }).ms;
        resolve({ ms, us: (ms * 1000) / n });
      }
    });
  });
}

/** A warm pool of one process worker. */
export async function startPool(): Promise<ProcessPoolExecutor> {
  const pool = new ProcessPoolExecutor({ maxWorkers: 1, prestart: true });
  await pipeRun(pool, 100);
  return pool;
}

/** Stops the pool and the IPC child. */
export async function stopAll(pool: ProcessPoolExecutor | null): Promise<void> {
  ipc?.kill();
  ipc = null;
  await pool?.shutdown();
}

// ------------------------------------------------------------------------------ the workload

let pool: ProcessPoolExecutor | null = null;

export const w10: Workload = {
  id: "W10",
  title: "tsaio/multiprocessing between two processes",
  description:
    "n small messages { id: i, name: 'item-' + i } from the main process to a warm child process, timed from the first send to the child's answer after the last. " +
    "W10a: a Pipe end moved to a ProcessPoolExecutor worker (each send awaited), against Node's own IPC channel to a forked child (advanced serialization, the floor) and CPython 3.13's multiprocessing.Pipe to a forked Process. " +
    "W10b: a multiprocessing Queue owned by the main process (each put awaited), the child's gets one request each, against CPython's multiprocessing.Queue (its put hands items to a feeder thread). µs per message.",
  async cases(ctx): Promise<CaseDef[]> {
    const p = (pool = await startPool());
    const py = findPython();
    const n = ctx.quick ? 20_000 : 100_000;
    const nq = ctx.quick ? 5_000 : 20_000;
    const pySide = (kase: "pipe" | "queue", name: string, note: string, count: number): Side[] =>
      py.exe === null ? [] : [{ name, kind: "python", note, warmup: false, run: () => pythonRun(py.exe, kase, count) }];
    const pyGoal = (k: number, ref: string): GoalDef[] => (py.exe === null ? [] : [{ text: `≥ ${k}× faster than ${ref}`, kind: "faster", k, ref }]);
    const notes = py.exe === null ? [`CPython 3.13 not found: ${py.why}`] : [];
    return [
      {
        id: "W10a",
        workload: "W10",
        title: `${n.toLocaleString("en")} small messages through a Pipe to another process`,
        metric: "us",
        unit: "µs/message",
        floor: "Node IPC",
        runs: 5,
        warmup: 1,
        notes,
        sides: [
          { name: "Node IPC", kind: "floor", note: "child.send() per message to a forked child, serialization 'advanced'", run: () => ipcRun(n) },
          { name: "tsaio", kind: "tsaio", note: "Pipe(), one end given to a ProcessPoolExecutor job; await send() per message", run: () => pipeRun(p, n) },
          ...pySide("pipe", "CPython multiprocessing.Pipe", "Pipe() to a forked Process; send() per message", n),
        ],
        goals: pyGoal(2, "CPython multiprocessing.Pipe"),
      },
      {
        id: "W10b",
        workload: "W10",
        title: `${nq.toLocaleString("en")} items through a multiprocessing Queue to another process`,
        metric: "us",
        unit: "µs/item",
        floor: "tsaio",
        runs: 3,
        warmup: 1,
        notes: [...notes, "tsaio's Queue answers each get of a client with one request/reply on the owner's socket: a round trip per item, the price of never losing an item to a dying consumer."],
        sides: [
          { name: "tsaio", kind: "tsaio", note: "Queue owned here, await put(); the child awaits get()", run: () => queueRun(p, nq) },
          ...pySide("queue", "CPython multiprocessing.Queue", "Queue() to a forked Process", nq),
        ],
        goals: [],
      },
    ];
  },
  async teardown(): Promise<void> {
    await stopAll(pool);
    pool = null;
  },
};
