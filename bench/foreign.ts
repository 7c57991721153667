/**
 * Foreign combinators over tsaio sleeps (issue 12, "Speed"): `Promise.all` and `Promise.allSettled`
 * over 200,000 tsaio `sleep`s of 1–50 ms, inside a task, against the same over `timers/promises`
 * sleeps. Real programs hand tsaio futures to the platform's combinators all the time, and every
 * such `then` inside a task goes through the task's suspension bookkeeping (the future becomes the
 * task's waiter), so this is where a fix for lost cancellation could make foreign awaits slow.
 *
 * Both sides run inside a tsaio task (`run()`'s main task), because the cost in question is the
 * in-task one: outside a task a Future's `then` has no task to tell. `gather` over the same tsaio
 * sleeps is a third row: tsaio's own way of doing it, for scale. The delays are the same
 * pseudo-random 1..50 ms on every side (one seed), every sleep resolves with its index, and every
 * side checks the sum (and, for `allSettled`, that every outcome was fulfilled), so a side that
 * skips work fails the run.
 *
 * The sides are interleaved in this one process (`lib.interleave`): 2 warm-up rounds, then
 * FOREIGN_RUNS (default 7, at least 5) counted rounds in an order that rotates every round, a full GC
 * before every sample, outside the timing. Reported: min/median/max of the whole time (creating the
 * sleeps through the combinator settling) and tsaio ÷ timers/promises of the medians, for
 * `Promise.all` and `allSettled` separately (the issue's goal: ≤ 1.5× on Node 24).
 *
 * Then a correctness check, not timed: a task awaiting `Promise.all` / `allSettled` / `race` over
 * 1,000 tsaio sleeps of 500–1,000 ms is cancelled 20 ms in. Expected after issue 12: the task's
 * await rejects at once (within 50 ms) and every one of the sleeps ends cancelled (their timers
 * disarmed). Before it, only the last sleep whose `then` the combinator called is cancelled.
 * FOREIGN_STRICT=1 makes a failed check exit with code 1.
 *
 * Run: `node --expose-gc --import tsx bench/foreign.ts` (env FOREIGN_N, FOREIGN_RUNS, FOREIGN_STRICT).
 * Writes `bench/results/foreign-<node-version>.json`.
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as timersSleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { CancelledError, createTask, gather, run, sleep, wait, type Future } from "../src/index.js";
import { fmt, gcExposed, interleave, machine, median, now, prng, stats, table, type Sample, type Stats } from "./tools/lib.js";

const here = dirname(fileURLToPath(import.meta.url));
const N = Math.max(1, Number(process.env.FOREIGN_N ?? 200_000) | 0);
const RUNS = Math.max(5, Number(process.env.FOREIGN_RUNS ?? 7) | 0);
const WARMUP = 2;
const SEED = 12;
const MAX_DELAY = 50;

/** The delays, 1..50 ms, the same for every side and every round. */
const DELAYS: readonly number[] = (() => {
  const rand = prng(SEED);
  return Array.from({ length: N }, () => 1 + Math.floor(rand() * MAX_DELAY));
})();

/** The sum every side must reach: sleep i resolves with i. */
const EXPECTED_SUM = (N * (N - 1)) / 2;

function checkValues(rs: readonly number[], who: string): void {
  let sum = 0;
  for (const r of rs) sum += r;
  if (rs.length !== N || sum !== EXPECTED_SUM) throw new Error(`${who}: ${rs.length} results summing to ${sum}, expected ${N} summing to ${EXPECTED_SUM}`);
}

function checkSettled(rs: readonly PromiseSettledResult<number>[], who: string): void {
  const values = rs.map((r) => (r.status === "fulfilled" ? r.value : NaN));
  checkValues(values, who);
}

// ------------------------------------------------------------------------------------- the sides

/** Starts the N sleeps of one side: `make(delay, index)` returns what resolves with `index`. */
function start<P>(make: (ms: number, i: number) => P): P[] {
  const ps = new Array<P>(N);
  for (let i = 0; i < N; i++) ps[i] = make(DELAYS[i], i);
  return ps;
}

const tsaioSleep = (ms: number, i: number): Future<number> => sleep(ms, i);
const platformSleep = (ms: number, i: number): Promise<number> => timersSleep(ms, i);

/**
 * One side: inside `run()`'s main task, start the sleeps, then await them with `join`, which also
 * checks the result (outside the timing). `createMs` is the time spent starting the sleeps.
 */
function side<P>(make: (ms: number, i: number) => P, join: (ps: P[]) => Promise<() => void>): () => Promise<Sample> {
  return () =>
    run(async (): Promise<Sample> => {
      const t0 = now();
      const ps = start(make);
      const t1 = now();
      const verify = await join(ps);
      const ms = now() - t0;
      verify();
      return { ms, createMs: t1 - t0 };
    });
}

const all =
  (who: string) =>
  async (ps: PromiseLike<number>[]): Promise<() => void> => {
    const rs = await Promise.all(ps);
    return () => checkValues(rs, who);
  };

const allSettled =
  (who: string) =>
  async (ps: PromiseLike<number>[]): Promise<() => void> => {
    const rs = await Promise.allSettled(ps);
    return () => checkSettled(rs, who);
  };

const SIDES = {
  allTsaio: "tsaio: Promise.all",
  allTimers: "timers/promises: Promise.all",
  settledTsaio: "tsaio: Promise.allSettled",
  settledTimers: "timers/promises: Promise.allSettled",
  gather: "tsaio: gather",
} as const;

const sides = [
  { name: SIDES.allTsaio, run: side(tsaioSleep, all(SIDES.allTsaio)) },
  { name: SIDES.allTimers, run: side(platformSleep, all(SIDES.allTimers)) },
  { name: SIDES.settledTsaio, run: side(tsaioSleep, allSettled(SIDES.settledTsaio)) },
  { name: SIDES.settledTimers, run: side(platformSleep, allSettled(SIDES.settledTimers)) },
  {
    name: SIDES.gather,
    run: side(tsaioSleep, async (fs: Future<number>[]): Promise<() => void> => {
      const rs = await gather(fs);
      return () => checkValues(rs, SIDES.gather);
    }),
  },
];

// ------------------------------------------------------------------------------ the cancel check

type Combinator = "all" | "allSettled" | "race";

interface CancelCheck {
  combinator: Combinator;
  sleeps: number;
  /** How many of the sleeps ended cancelled (expected: all). */
  cancelled: number;
  /** How many were still pending, timers armed, when the task's await settled. */
  stillPending: number;
  /** How the task's await ended: "CancelledError", "resolved", another error's name, or "hung". */
  outcome: string;
  /** ms from `cancel()` to the task's await settling. */
  settledAfterMs: number;
  prompt: boolean;
  pass: boolean;
}

const CHECK_SLEEPS = 1_000;
const CHECK_MIN_DELAY = 500;
const CHECK_CANCEL_AT = 20;
/** "At once": well under the shortest sleep still pending at the cancel (480 ms). */
const PROMPT_MS = 50;
/** How long to wait for the task before calling it hung (the longest sleep is 1,000 ms). */
const HUNG_MS = 3_000;

function cancelCheck(combinator: Combinator): Promise<CancelCheck> {
  const rand = prng(SEED + 1);
  const delays = Array.from({ length: CHECK_SLEEPS }, () => CHECK_MIN_DELAY + Math.floor(rand() * CHECK_MIN_DELAY));
  return run(async (): Promise<CancelCheck> => {
    const fs: Future<number>[] = [];
    const t = createTask(async () => {
      for (let i = 0; i < CHECK_SLEEPS; i++) fs.push(sleep(delays[i], i));
      if (combinator === "all") await Promise.all(fs);
      else if (combinator === "allSettled") await Promise.allSettled(fs);
      else await Promise.race(fs);
    });
    await sleep(CHECK_CANCEL_AT);
    const t0 = now();
    t.cancel();
    const { done } = await wait([t], { timeout: HUNG_MS });
    const settledAfterMs = now() - t0;
    let outcome = "hung";
    if (done.size > 0) {
      if (t.cancelled()) outcome = "CancelledError";
      else {
        const e = t.exception();
        outcome = e === null || e === undefined ? "resolved" : e instanceof CancelledError ? "CancelledError" : (e as Error).name;
      }
    }
    const cancelled = fs.filter((f) => f.cancelled()).length;
    const stillPending = fs.filter((f) => !f.done()).length;
    // Clean up whatever the check left armed, after counting.
    t.cancel();
    for (const f of fs) f.cancel();
    const prompt = outcome === "CancelledError" && settledAfterMs <= PROMPT_MS;
    return { combinator, sleeps: CHECK_SLEEPS, cancelled, stillPending, outcome, settledAfterMs, prompt, pass: prompt && cancelled === CHECK_SLEEPS };
  });
}

// ------------------------------------------------------------------------------------------ main

interface Row extends Stats {
  name: string;
  samples: number[];
  createMs: number;
  gcMs: number;
}

async function main(): Promise<void> {
  if (!gcExposed) process.stderr.write("note: run with --expose-gc (GC is enabled late through V8 flags otherwise)\n");
  const load = loadavg();
  if (load[0] > 0.5) process.stderr.write(`note: load average ${load.map((x) => x.toFixed(2)).join(" ")}: other processes share the CPUs\n`);
  process.stderr.write(`foreign: ${N.toLocaleString("en")} sleeps of 1–${MAX_DELAY} ms, ${WARMUP} warm-up + ${RUNS} counted rounds\n`);

  const t0 = now();
  const by = await interleave("foreign", sides, RUNS, WARMUP, { rotate: true });
  const rows: Row[] = sides.map(({ name }) => {
    const ss = by[name];
    const xs = ss.map((s) => s.ms);
    return { name, samples: xs, ...stats(xs), createMs: median(ss.map((s) => s.createMs)), gcMs: median(ss.map((s) => s.gcMs)) };
  });
  const med = (name: string): number => (rows.find((r) => r.name === name) as Row).median;
  const ratios = {
    all: med(SIDES.allTsaio) / med(SIDES.allTimers),
    allSettled: med(SIDES.settledTsaio) / med(SIDES.settledTimers),
    gather: med(SIDES.gather) / med(SIDES.allTimers),
  };
  const vsTimers: Record<string, string> = {
    [SIDES.allTsaio]: `${ratios.all.toFixed(2)}×`,
    [SIDES.settledTsaio]: `${ratios.allSettled.toFixed(2)}×`,
    [SIDES.gather]: `${ratios.gather.toFixed(2)}×`,
  };

  console.log(`\n${N.toLocaleString("en")} sleeps of 1–${MAX_DELAY} ms inside a task (${process.version}, ${RUNS} rounds; ms from the first sleep started to the combinator settled)`);
  const out = [["side", "median ms", "min", "max", "create ms", "gc ms", "÷ timers/promises"]];
  for (const r of rows) out.push([r.name, fmt(r.median), fmt(r.min), fmt(r.max), fmt(r.createMs), fmt(r.gcMs), vsTimers[r.name] ?? ""]);
  console.log(table(out));
  console.log(`Promise.all: tsaio ${ratios.all.toFixed(2)}× timers/promises; allSettled: ${ratios.allSettled.toFixed(2)}×; gather: ${ratios.gather.toFixed(2)}× timers/promises' Promise.all (issue 12 goal: ≤ 1.5× on Node 24)`);

  const checks: CancelCheck[] = [];
  for (const c of ["all", "allSettled", "race"] as const) checks.push(await cancelCheck(c));
  console.log(
    `\nCancelling a task that awaits a combinator over ${CHECK_SLEEPS.toLocaleString("en")} tsaio sleeps of ${CHECK_MIN_DELAY}–${2 * CHECK_MIN_DELAY} ms, ${CHECK_CANCEL_AT} ms in` +
      ` (expected: the await rejects within ${PROMPT_MS} ms and every sleep is cancelled)`,
  );
  const crow = [["combinator", "await ended", "after ms", "sleeps cancelled", "still pending", "check"]];
  for (const c of checks) crow.push([`Promise.${c.combinator}`, c.outcome, fmt(c.settledAfterMs), `${c.cancelled}/${c.sleeps}`, String(c.stillPending), c.pass ? "PASS" : "FAIL"]);
  console.log(table(crow));

  const result = {
    ...machine(),
    date: new Date().toISOString(),
    command: "node --expose-gc --import tsx bench/foreign.ts",
    sleeps: N,
    delaysMs: [1, MAX_DELAY],
    seed: SEED,
    runs: RUNS,
    warmup: WARMUP,
    loadAverageAtStart: load,
    loadAverageAtEnd: loadavg(),
    durationSeconds: Math.round((now() - t0) / 1000),
    rows,
    ratios,
    cancelChecks: checks,
  };
  const file = join(here, "results", `foreign-${process.version}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
  console.log(`\n${result.durationSeconds} s; results: ${file}`);
  if (process.env.FOREIGN_STRICT === "1" && checks.some((c) => !c.pass)) process.exitCode = 1;
}

await main();
