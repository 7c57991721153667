/**
 * tsaio/threading (issue 14), side by side in one run, on warm worker threads of one
 * ThreadPoolExecutor (the measuring functions are bench/suite/w9-threading.ts's):
 * (a) one producer thread → one consumer thread moving 1,000,000 items `{ id: i, name: "item-" + i }`:
 *     a threading `Queue` (putSync/getSync) vs a `MessagePort` vs CPython 3.13's `queue.Queue`
 *     between two threads (goals: ≥ 3× the MessagePort, ≥ 1.5× CPython);
 * (b) 4 workers × 100,000 increments of one `Value` under its `Lock` (`acquireSync`/`release`), the
 *     total checked, vs CPython 3.13's `multiprocessing.Value` + `get_lock()` across 4 processes
 *     (goal ≥ 3×), with one `Atomics.add` per increment as the floor;
 * (c) the uncontended `acquireSync()`/`release()` pair in a worker vs a bare
 *     `Atomics.compareExchange` + `Atomics.store` (goal ≤ 2×).
 * Rounds are interleaved (every side once per round, the order rotating); medians are compared.
 *
 * Run: `npm run bench:threading` (`node --expose-gc --import tsx bench/threading.ts`). Env:
 * THREADING_ITEMS (default 1,000,000), THREADING_ROUNDS (default 5), BENCH_PYTHON (a python3 that
 * re-executes bench/threading_cpython.py with pyenv's 3.13). `--json` prints the result as JSON.
 * Writes `bench/results/threading-<node-version>.json`.
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fmt, machine, median, now, table, type Sample } from "./tools/lib.js";
import { atomicAddRun, counterRun, findPython, pairsRun, portRun, pythonRun, QUEUE_MAXSIZE, queueRun, startPool, WORKERS } from "./suite/w9-threading.js";

const here = dirname(fileURLToPath(import.meta.url));
const ITEMS = Number(process.env.THREADING_ITEMS ?? 1_000_000);
const ROUNDS = Number(process.env.THREADING_ROUNDS ?? 5);
const INCS = 100_000;
const PAIRS = 1_000_000;

interface Side {
  name: string;
  run: () => Promise<number>;
}

/** Every side once per round, the order rotating by one each round; one warm-up round first. */
async function interleave(sides: Side[], rounds: number): Promise<number[][]> {
  const out: number[][] = sides.map(() => []);
  for (let r = -1; r < rounds; r++) {
    for (let k = 0; k < sides.length; k++) {
      const i = (k + Math.max(r, 0)) % sides.length;
      const v = await sides[i].run();
      if (r >= 0) out[i].push(v);
    }
  }
  return out;
}

const metric = (key: string) => (s: Promise<Sample>) => s.then((x) => x[key]);

async function main(): Promise<void> {
  const t0 = now();
  const loadAtStart = loadavg();
  const py = findPython();
  if (py.exe === null) console.log(`CPython 3.13 not found (${py.why}): its columns are left out`);
  await using pool = await startPool();

  // (a) the queue, ns per item
  const qSides: Side[] = [
    { name: "MessagePort", run: () => metric("ns")(portRun(pool, ITEMS)) },
    { name: "tsaio Queue", run: () => metric("ns")(queueRun(pool, ITEMS)) },
  ];
  if (py.exe !== null) {
    const exe = py.exe;
    qSides.push({ name: "CPython queue.Queue", run: async () => ((await pythonRun(exe, "queue", ITEMS)) * 1e6) / ITEMS });
  }
  const q = await interleave(qSides, ROUNDS);

  // (b) the locked counter, ms
  const cSides: Side[] = [
    { name: "Atomics.add (no lock)", run: () => metric("ms")(atomicAddRun(pool, INCS)) },
    { name: "tsaio Value + Lock", run: () => metric("ms")(counterRun(pool, INCS)) },
  ];
  if (py.exe !== null) {
    const exe = py.exe;
    cSides.push({ name: "CPython multiprocessing.Value", run: () => pythonRun(exe, "counter", INCS, WORKERS) });
  }
  const c = await interleave(cSides, ROUNDS);

  // (c) the uncontended pair, ns
  const pSides: Side[] = [
    { name: "compareExchange + store", run: () => metric("ns")(pairsRun(pool, "bare", PAIRS)) },
    { name: "tsaio acquireSync + release", run: () => metric("ns")(pairsRun(pool, "lock", PAIRS)) },
  ];
  const p = await interleave(pSides, ROUNDS);

  const med = (xs: number[]): number => median(xs);
  const queueNs = med(q[1]);
  const portNs = med(q[0]);
  const pyQueueNs = q[2] === undefined ? null : med(q[2]);
  const counterMs = med(c[1]);
  const pyCounterMs = c[2] === undefined ? null : med(c[2]);
  const lockNs = med(p[1]);
  const bareNs = med(p[0]);
  const goals = {
    queueVsPort: { text: "Queue ≥ 3× a MessagePort's throughput", value: portNs / queueNs, pass: portNs / queueNs >= 3 },
    queueVsCPython: pyQueueNs === null ? null : { text: "Queue ≥ 1.5× CPython queue.Queue's throughput", value: pyQueueNs / queueNs, pass: pyQueueNs / queueNs >= 1.5 },
    counterVsCPython: pyCounterMs === null ? null : { text: "locked counter ≥ 3× CPython multiprocessing.Value + get_lock()", value: pyCounterMs / counterMs, pass: pyCounterMs / counterMs >= 3 },
    fastPath: { text: "uncontended acquireSync + release ≤ 2× bare compareExchange + store", value: lockNs / bareNs, pass: lockNs / bareNs <= 2 },
  };

  const rowsOf = (title: string, unit: string, sides: Side[], samples: number[][], tsaio: number, perSec: ((v: number) => string) | null): string[][] =>
    sides.map((s, i) => {
      const m = med(samples[i]);
      return [title, s.name, `${fmt(m)} ${unit}`, perSec === null ? "" : perSec(m), `${fmt(Math.min(...samples[i]))}–${fmt(Math.max(...samples[i]))}`, i === 1 ? "—" : `${fmt(m / tsaio)}×`];
    });
  const mps = (ns: number): string => `${fmt(1e3 / ns)} M items/s`;
  const rows = [
    ...rowsOf(`(a) ${ITEMS.toLocaleString("en")} items, thread → thread`, "ns/item", qSides, q, queueNs, mps),
    ...rowsOf(`(b) ${WORKERS} × ${INCS.toLocaleString("en")} locked increments`, "ms", cSides, c, counterMs, (ms) => `${fmt((WORKERS * INCS) / ms / 1000)} M incr/s`),
    ...rowsOf("(c) uncontended pair", "ns", pSides, p, lockNs, null),
  ];
  const result = {
    ...machine(),
    python: py.exe === null ? null : py.version,
    date: new Date().toISOString(),
    command: "node --expose-gc --import tsx bench/threading.ts",
    items: ITEMS,
    queueMaxsize: QUEUE_MAXSIZE,
    increments: INCS,
    workers: WORKERS,
    rounds: ROUNDS,
    loadAverageAtStart: loadAtStart,
    loadAverageAtEnd: loadavg(),
    durationSeconds: Math.round((now() - t0) / 1000),
    queue: { tsaioNsPerItem: queueNs, messagePortNsPerItem: portNs, cpythonNsPerItem: pyQueueNs, samples: Object.fromEntries(qSides.map((s, i) => [s.name, q[i]])) },
    counter: { tsaioMs: counterMs, atomicsAddMs: med(c[0]), cpythonMs: pyCounterMs, samples: Object.fromEntries(cSides.map((s, i) => [s.name, c[i]])) },
    fastPath: { lockNsPerPair: lockNs, bareNsPerPair: bareNs, samples: Object.fromEntries(pSides.map((s, i) => [s.name, p[i]])) },
    goals,
  };
  if (process.argv.includes("--json")) console.log(JSON.stringify(result));
  else {
    console.log(`tsaio/threading on Node ${process.version}${py.exe === null ? "" : `, CPython ${py.version}`} (load ${loadAtStart.map((x) => x.toFixed(1)).join(" ")}), median of ${ROUNDS} interleaved rounds`);
    console.log(table([["case", "side", "median", "throughput", "min–max", "÷ tsaio"], ...rows]));
    for (const g of Object.values(goals)) if (g !== null) console.log(`${g.pass ? "met   " : "MISSED"} ${g.text}: ${fmt(g.value)}×`);
  }
  const file = join(here, "results", `threading-${process.version}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
  console.log(`results: ${file}`);
}

await main();
