/**
 * tsaio/multiprocessing between two processes (issue 14), side by side in one run:
 * - a Pipe: 100,000 small messages { id: i, name: "item-" + i } from this process to a warm
 *   ProcessPoolExecutor worker, against Node's own IPC channel (child.send per message to a forked
 *   child, advanced serialization) and CPython 3.13's multiprocessing.Pipe to a forked Process;
 * - a Queue: 20,000 items through a multiprocessing Queue owned here to a consumer in the worker,
 *   against CPython's multiprocessing.Queue.
 * The sides take turns round by round (the machine's mood is spread over all of them). The goal:
 * the Pipe ≥ 2× CPython's.
 *
 * Run: `npm run bench:multiprocessing` (`node --expose-gc --import tsx bench/multiprocessing.ts`).
 * Env: MP_MESSAGES (default 100,000), MP_ITEMS (default 20,000), MP_ROUNDS (default 5), BENCH_PYTHON
 * (a python3 that re-executes bench/multiprocessing_cpython.py with pyenv's 3.13).
 * Writes `bench/results/multiprocessing-<node-version>.json`.
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fmt, interleave, machine, median, table, type Sample } from "./tools/lib.js";
import { findPython, ipcRun, pipeRun, pythonRun, queueRun, startPool, stopAll } from "./suite/w10-multiprocessing.js";

const here = dirname(fileURLToPath(import.meta.url));
const N = Number(process.env.MP_MESSAGES ?? 100_000);
const NQ = Number(process.env.MP_ITEMS ?? 20_000);
const ROUNDS = Number(process.env.MP_ROUNDS ?? 5);

const pool = await startPool();
const py = findPython();
if (py.exe === null) console.log(`CPython 3.13 not found: ${py.why}`);
const load0 = loadavg()[0];

const pipeSides: Record<string, () => Promise<Sample>> = {
  "Node IPC (floor)": () => ipcRun(N),
  "tsaio Pipe": () => pipeRun(pool, N),
};
if (py.exe !== null) pipeSides["CPython multiprocessing.Pipe"] = () => pythonRun(py.exe, "pipe", N);
const pipe = await interleave("pipe", pipeSides, ROUNDS, 1, { rotate: true });

const queueSides: Record<string, () => Promise<Sample>> = { "tsaio Queue": () => queueRun(pool, NQ) };
if (py.exe !== null) queueSides["CPython multiprocessing.Queue"] = () => pythonRun(py.exe, "queue", NQ);
const queue = await interleave("queue", queueSides, Math.max(2, Math.ceil(ROUNDS / 2)), 1, { rotate: true });
await stopAll(pool);

const med = (xs: Sample[]): number => median(xs.map((s) => s.us));
const pipeUs = med(pipe["tsaio Pipe"]);
const ipcUs = med(pipe["Node IPC (floor)"]);
const pyPipeUs = py.exe === null ? null : med(pipe["CPython multiprocessing.Pipe"]);
const queueUs = med(queue["tsaio Queue"]);
const pyQueueUs = py.exe === null ? null : med(queue["CPython multiprocessing.Queue"]);

console.log(`\n${N.toLocaleString("en")} messages through a Pipe, ${NQ.toLocaleString("en")} items through a Queue; ${process.version}; load ${load0.toFixed(1)} → ${loadavg()[0].toFixed(1)}`);
const rows = [["side", "µs/message (median)", "messages/s", "× tsaio"]];
for (const [name, samples] of [...Object.entries(pipe), ...Object.entries(queue)]) {
  const us = med(samples);
  const ref = name.includes("Queue") ? queueUs : pipeUs;
  rows.push([name, fmt(us), fmt(1e6 / us), fmt(us / ref)]);
}
console.log(table(rows));
if (pyPipeUs !== null) console.log(`Pipe vs CPython: ${fmt(pyPipeUs / pipeUs)}× faster (goal ≥ 2×)${pyPipeUs / pipeUs >= 2 ? "" : "  MISSED"}`);
console.log(`Pipe vs Node IPC: ${fmt(ipcUs / pipeUs)}× (> 1: tsaio faster)`);
if (pyQueueUs !== null) console.log(`Queue vs CPython: ${fmt(pyQueueUs / queueUs)}× (> 1: tsaio faster)`);

const result = {
  ...machine(),
  command: "node --expose-gc --import tsx bench/multiprocessing.ts",
  date: new Date().toISOString(),
  load: [load0, loadavg()[0]],
  python: py.exe === null ? null : py.version,
  messages: N,
  items: NQ,
  pipe: { tsaioUsPerMessage: pipeUs, nodeIpcUsPerMessage: ipcUs, cpythonUsPerMessage: pyPipeUs, vsCpython: pyPipeUs === null ? null : pyPipeUs / pipeUs, vsNodeIpc: ipcUs / pipeUs, samples: pipe },
  queue: { tsaioUsPerItem: queueUs, cpythonUsPerItem: pyQueueUs, vsCpython: pyQueueUs === null ? null : pyQueueUs / queueUs, samples: queue },
};
mkdirSync(join(here, "results"), { recursive: true });
const file = join(here, "results", `multiprocessing-${process.version}.json`);
writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
console.log(`results: ${file}`);
