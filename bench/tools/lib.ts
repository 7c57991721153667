/**
 * Small helpers for the benchmarks: a seeded PRNG, a forced GC, statistics, an interleaved runner
 * (baseline, tsaio, baseline, tsaio …) and table formatting. No dependencies.
 * @module
 */
import { cpus } from "node:os";
import { GCProfiler, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** mulberry32: a tiny seeded PRNG, so that both sides of a benchmark see the same "random" input. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type GcFn = () => void;
let gcFn: GcFn | null = (globalThis as { gc?: GcFn }).gc ?? null;
/** Whether the process was started with `--expose-gc` (otherwise gc is enabled late, via V8 flags). */
export const gcExposed = gcFn !== null;
if (gcFn === null) {
  setFlagsFromString("--expose-gc");
  gcFn = runInNewContext("gc") as GcFn;
}

/** A full, synchronous garbage collection (twice, so that weak/finalizer leftovers go too). */
export function fullGc(): void {
  (gcFn as GcFn)();
  (gcFn as GcFn)();
}

/** V8 heap in use, in bytes. */
export function heapUsed(): number {
  return process.memoryUsage().heapUsed;
}

/** High-resolution time in ms. */
export const now = (): number => performance.now();

export interface Stats {
  min: number;
  median: number;
  max: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 === 1 ? s[(n - 1) >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

export function stats(xs: readonly number[]): Stats {
  return { min: xs.reduce((a, b) => Math.min(a, b), Infinity), median: median(xs), max: xs.reduce((a, b) => Math.max(a, b), -Infinity) };
}

/** One sample of a benchmark side: a record of named metrics (ms, bytes, …). */
export type Sample = Record<string, number>;

/** A side of `interleave` with its own settings (the plain form is a name → function record). */
export interface InterleavedSide {
  name: string;
  run: () => Promise<Sample>;
  /** false: skipped in the warm-up rounds (nothing to warm, e.g. a fresh child process each time). */
  warmup?: boolean;
  /** false: no `gcMs` for this side (its work runs in another process). */
  gc?: boolean;
}

/**
 * Runs `warmup` rounds then `runs` counted rounds of every side in the given order (the baseline
 * first: baseline, tsaio, baseline, tsaio, …), with a full GC before every sample, outside the
 * measurement. Returns the counted samples per side, index-aligned by round. Each sample also gets
 * `gcMs`: the time V8 spent in garbage collection during it (from `v8.GCProfiler`), unless the
 * sample forces collections itself (`gc: false`). With `rotate`, the order shifts by one side every
 * round, so that no side always runs first (right after the GCs) or after the same neighbour.
 */
export async function interleave(
  label: string,
  sides: Record<string, () => Promise<Sample>> | readonly InterleavedSide[],
  runs: number,
  warmup: number,
  options: { gc?: boolean; rotate?: boolean } = {},
): Promise<Record<string, Sample[]>> {
  const list: readonly InterleavedSide[] = Array.isArray(sides) ? sides : Object.entries(sides).map(([name, run]) => ({ name, run }));
  const out: Record<string, Sample[]> = {};
  for (const side of list) out[side.name] = [];
  const w = Math.max(...list.map((side) => side.name.length));
  for (let r = 0; r < warmup + runs; r++) {
    const counted = r >= warmup;
    for (let i = 0; i < list.length; i++) {
      const side = list[options.rotate === true ? (i + r) % list.length : i];
      if (!counted && side.warmup === false) continue;
      fullGc();
      const prof = options.gc === false || side.gc === false ? null : new GCProfiler();
      prof?.start();
      const s = await side.run();
      if (prof !== null) s.gcMs = gcMillis(prof.stop());
      if (counted) out[side.name].push(s);
      process.stderr.write(`  ${label} ${counted ? `run ${r - warmup + 1}/${runs}` : "warm-up"}  ${side.name.padEnd(w)}  ${fmtSample(s)}
`);
    }
  }
  return out;
}

/** Total GC pause time in a `GCProfiler.stop()` result, in ms. */
export function gcMillis(data: { statistics: { cost: number }[] } | undefined): number {
  let us = 0;
  for (const st of data?.statistics ?? []) us += st.cost;
  return us / 1000;
}

function fmtSample(s: Sample): string {
  return Object.entries(s)
    .map(([k, v]) => `${k}=${fmt(v)}`)
    .join(" ");
}

/** A number with sensible precision for a table. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  if (a >= 100) return v.toFixed(1);
  if (a >= 10) return v.toFixed(2);
  return v.toFixed(3);
}

/** Renders rows as an aligned text table (first row is the header). */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  const line = (r: string[]): string => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ");
  const sep = widths.map((w) => "-".repeat(w)).join("  ");
  return [line(rows[0]), sep, ...rows.slice(1).map(line)].join("\n");
}

/** Where a result was measured: the head of every results file. */
export function machine(): { node: string; v8: string; platform: string; arch: string; cpuModel: string; cpus: number } {
  const cs = cpus();
  return { node: process.version, v8: process.versions.v8, platform: process.platform, arch: process.arch, cpuModel: cs[0]?.model.trim() ?? "?", cpus: cs.length };
}
