/**
 * The crawler's benchmark (issue 6; not a test): the example crawler (examples/crawler/) on the demo
 * site with a latency of ~100 ms per request (uniform-ish in [95, 105] ms, log-uniform), no injected
 * failures, 2,000 pages.
 *
 * 1. throughput — pages/s at concurrency 50 (per-host limit 50) against pages/s at concurrency 1 on
 *    the same pages: a random sample of BENCH_SAMPLE (default 100) of the pages just crawled is
 *    fetched again one at a time, through the same code (retries, timeout, CPU step), and its time
 *    per page extrapolated. Goal: ≥ 40×.
 * 2. event-loop delay — `perf_hooks.monitorEventLoopDelay` (10 ms resolution) over the concurrent
 *    crawl, while the CPU step (link parsing, text extraction, SHA-256) runs in the ThreadPoolExecutor.
 *    Goal: p99 < 20 ms. For comparison, the same crawl with the CPU step on the event loop
 *    (`pool: null`) is measured too.
 *
 * The site runs in a child process (this file with `--serve`), so that the event loop measured is
 * the crawler's alone; BENCH_SITE=inline serves it from this process instead, as `npm start` does.
 * The pool's threads are started before the first round. BENCH_RUNS rounds (default 3); medians.
 *
 * Run: `npm run build && node --import tsx bench/crawler.ts` (the example imports "tsaio", i.e. dist/).
 * Env: BENCH_PAGES (2000), BENCH_RUNS (3), BENCH_SAMPLE (100), BENCH_SITE=child|inline.
 * Results: a table on stdout, progress on stderr, JSON in bench/results/crawler-<node version>.json.
 * @module
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { dirname, join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { run, ThreadPoolExecutor } from "tsaio";
import { crawl, warmUp } from "../examples/crawler/crawler.js";
import { startSite, type SiteOptions } from "../examples/crawler/site.js";
import { median } from "./tools/lib.js";

const here = dirname(fileURLToPath(import.meta.url));
const PAGES = Number(process.env.BENCH_PAGES ?? 2_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SAMPLE = Number(process.env.BENCH_SAMPLE ?? 100);
const SITE_MODE = process.env.BENCH_SITE === "inline" ? "inline" : "child";
const CONCURRENCY = 50;
const SITE: SiteOptions = { pages: PAGES, latency: [95, 105], flaky: 0, slowOnce: 0, hanging: 0, broken: 0, missing: 0, seed: 11 };

/** `--serve`: the site process. Prints its URL, serves until stdin closes. */
async function serve(): Promise<void> {
  const site = await startSite(SITE);
  process.stdout.write(site.url + "\n");
  process.stdin.resume();
  process.stdin.on("end", () => void site.close());
}

/** Starts the site (in a child process unless BENCH_SITE=inline); returns its URL and a closer. */
async function site(): Promise<{ url: string; close: () => Promise<void> }> {
  if (SITE_MODE === "inline") {
    const s = await startSite(SITE);
    return { url: s.url, close: () => s.close() };
  }
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "--serve"], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise<string>((resolve, reject) => {
    lines.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`the site process exited (${code})`)));
  });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.stdin.end();
      }),
  };
}

interface Round {
  pages: number;
  wallMs: number;
  pagesPerSecond: number;
  sequentialMsPerPage: number;
  sequentialPagesPerSecond: number;
  ratio: number;
  /** CPU time of this process (all its threads: the loop, the pool, the GC) per page. */
  cpuMsPerPage: number;
  loopDelay: { p50: number; p99: number; max: number };
  /** The same crawl with the CPU step on the event loop. */
  inline: { pagesPerSecond: number; cpuMsPerPage: number; loopDelay: { p50: number; p99: number; max: number } };
}

async function bench(): Promise<void> {
  const { url, close } = await site();
  const threads = Number(process.env.BENCH_THREADS ?? Math.max(1, Math.min(8, availableParallelism() - 1)));
  const rounds: Round[] = [];
  try {
    await run(async () => {
      await using pool = new ThreadPoolExecutor({ maxWorkers: threads, name: "crawler-bench" });
      await warmUp(pool, threads);
      const h = monitorEventLoopDelay({ resolution: 10 });
      /** One concurrent crawl of the site, with its event-loop delay and CPU time. */
      const measured = async (cpuStep: typeof pool | null) => {
        h.reset();
        h.enable();
        const cpu0 = process.cpuUsage();
        const stats = await crawl({ url, concurrency: CONCURRENCY, timeout: 5_000, pool: cpuStep, maxPages: Infinity });
        const cpu = process.cpuUsage(cpu0);
        h.disable();
        const loopDelay = { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
        return { stats, loopDelay, cpuMsPerPage: (cpu.user + cpu.system) / 1000 / stats.pages, pagesPerSecond: (stats.pages * 1000) / stats.wallMs };
      };
      for (let r = 1; r <= RUNS; r++) {
        // Alternate which goes first, so that neither always runs on a warmer (or colder) process.
        const first = await measured(r % 2 === 1 ? null : pool);
        const second = await measured(r % 2 === 1 ? pool : null);
        const [inline, { stats: c, loopDelay, cpuMsPerPage }] = r % 2 === 1 ? [first, second] : [second, first];
        const pages = [...c.outcomes].filter(([, o]) => o.kind === "page").map(([u]) => u);
        for (let i = pages.length - 1; i > 0; i--) {
          const j = Math.floor(Math.random() * (i + 1));
          [pages[i], pages[j]] = [pages[j], pages[i]];
        }
        const s = await crawl({ url: pages.slice(0, SAMPLE), follow: false, concurrency: 1, timeout: 5_000, pool });
        const pagesPerSecond = (c.pages * 1000) / c.wallMs;
        const sequentialMsPerPage = s.wallMs / s.pages;
        const round: Round = {
          pages: c.pages,
          wallMs: c.wallMs,
          pagesPerSecond,
          sequentialMsPerPage,
          sequentialPagesPerSecond: 1000 / sequentialMsPerPage,
          ratio: pagesPerSecond / (1000 / sequentialMsPerPage),
          cpuMsPerPage,
          loopDelay,
          inline: { pagesPerSecond: inline.pagesPerSecond, cpuMsPerPage: inline.cpuMsPerPage, loopDelay: inline.loopDelay },
        };
        rounds.push(round);
        process.stderr.write(
          `round ${r}/${RUNS}: ${c.pages} pages in ${c.wallMs.toFixed(0)} ms (${pagesPerSecond.toFixed(0)} pages/s), ` +
            `concurrency 1: ${sequentialMsPerPage.toFixed(1)} ms/page → ${round.ratio.toFixed(1)}×, loop delay p99 ${round.loopDelay.p99.toFixed(1)} ms (CPU step on the loop: ${inline.loopDelay.p99.toFixed(1)} ms), ` +
            `CPU ${round.cpuMsPerPage.toFixed(2)} ms/page\n`,
        );
      }
    });
  } finally {
    await close();
  }

  const med = (f: (r: Round) => number): number => median(rounds.map(f));
  const result = {
    node: process.version,
    v8: process.versions.v8,
    cpu: cpus()[0]?.model ?? "unknown",
    cpuCount: cpus().length,
    date: new Date().toISOString(),
    site: { ...SITE, process: SITE_MODE },
    concurrency: CONCURRENCY,
    sample: SAMPLE,
    threads,
    runs: RUNS,
    median: {
      pagesPerSecond: med((r) => r.pagesPerSecond),
      sequentialPagesPerSecond: med((r) => r.sequentialPagesPerSecond),
      ratio: med((r) => r.ratio),
      loopDelayP99Ms: med((r) => r.loopDelay.p99),
      cpuMsPerPage: med((r) => r.cpuMsPerPage),
      inlineLoopDelayP99Ms: med((r) => r.inline.loopDelay.p99),
      inlinePagesPerSecond: med((r) => r.inline.pagesPerSecond),
    },
    rounds,
  };
  const f = (x: number, d = 1): string => x.toFixed(d);
  console.log(`Crawler benchmark — Node ${process.version}, ${result.cpuCount} CPUs, ${PAGES} pages at ~100 ms, site in ${SITE_MODE === "child" ? "a child process" : "this process"}, CPU step in ${threads} thread${threads === 1 ? "" : "s"} (median of ${RUNS})`);
  console.log(`  concurrency ${CONCURRENCY}: ${f(result.median.pagesPerSecond, 0)} pages/s`);
  console.log(`  concurrency 1 (${SAMPLE} sampled pages): ${f(result.median.sequentialPagesPerSecond, 2)} pages/s`);
  console.log(`  throughput ratio: ${f(result.median.ratio)}×   (goal ≥ 40×)`);
  console.log(`  event-loop delay p99 during the concurrent crawl: ${f(result.median.loopDelayP99Ms)} ms   (goal < 20 ms)`);
  console.log(`  the same crawl with the CPU step on the event loop: p99 ${f(result.median.inlineLoopDelayP99Ms)} ms, ${f(result.median.inlinePagesPerSecond, 0)} pages/s`);
  mkdirSync(join(here, "results"), { recursive: true });
  const out = join(here, "results", `crawler-${process.version}.json`);
  writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
  process.stderr.write(`results: ${out}\n`);
}

if (process.argv.includes("--serve")) await serve();
else await bench();
