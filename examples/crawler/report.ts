/**
 * The crawl's final report: a table for people, one JSON object for programs. Both are built from
 * the same {@link Report}, which a partial (interrupted) crawl produces too.
 * @module
 */
import type { CrawlStats } from "./crawler.js";

/** The speed-up measurement: a sample of pages fetched again with concurrency 1. */
export interface SampleResult {
  pages: number;
  wallMs: number;
}

/** Everything the report shows. `pages`, `failures`, `retries`, `timeouts` and `wallMs` are the contract of `--json`. */
export interface Report {
  url: string;
  interrupted: boolean;
  pages: number;
  duplicates: number;
  redirects: number;
  other: number;
  bytes: number;
  requests: number;
  retries: number;
  timeouts: number;
  failures: number;
  failuresByKind: Record<string, number>;
  discovered: number;
  unfinished: number;
  inFlight: number;
  wallMs: number;
  pagesPerSecond: number;
  bytesPerSecond: number;
  /** Throughput over that of the concurrency-1 sample (null: not measured). */
  speedup: number | null;
  sample: (SampleResult & { pagesPerSecond: number }) | null;
  /** The event loop's delay during the crawl (perf_hooks.monitorEventLoopDelay), when measured. */
  eventLoopDelayP99Ms: number | null;
  settings: { concurrency: number; perHost: number; timeout: number; retries: number; maxPages: number | null; cpuThreads: number };
  /** Demo site only: what disagrees with what the site served (empty: the crawl is exact). */
  audit?: string[];
}

/** Builds the report from the crawl's (possibly partial) stats. */
export function buildReport(
  url: string,
  stats: CrawlStats,
  settings: Report["settings"],
  extra: { sample?: SampleResult | null; eventLoopDelayP99Ms?: number | null; audit?: string[] } = {},
): Report {
  const wallMs = stats.wallMs;
  const perSecond = (n: number, ms: number): number => (ms > 0 ? (n * 1000) / ms : 0);
  const sample = extra.sample != null && extra.sample.pages > 0 ? { ...extra.sample, pagesPerSecond: perSecond(extra.sample.pages, extra.sample.wallMs) } : null;
  const pagesPerSecond = perSecond(stats.pages, wallMs);
  const report: Report = {
    url,
    interrupted: stats.interrupted,
    pages: stats.pages,
    duplicates: stats.duplicates,
    redirects: stats.redirects,
    other: stats.other,
    bytes: stats.bytes,
    requests: stats.requests,
    retries: stats.retries,
    timeouts: stats.timeouts,
    failures: stats.failed,
    failuresByKind: Object.fromEntries([...stats.failures].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
    discovered: stats.discovered,
    unfinished: stats.pending,
    inFlight: stats.inFlight,
    wallMs: Math.round(wallMs),
    pagesPerSecond: round(pagesPerSecond, 1),
    bytesPerSecond: Math.round(perSecond(stats.bytes, wallMs)),
    speedup: sample === null || stats.interrupted ? null : round(pagesPerSecond / sample.pagesPerSecond, 1),
    sample: sample === null ? null : { ...sample, wallMs: Math.round(sample.wallMs), pagesPerSecond: round(sample.pagesPerSecond, 2) },
    eventLoopDelayP99Ms: extra.eventLoopDelayP99Ms == null ? null : round(extra.eventLoopDelayP99Ms, 1),
    settings,
  };
  if (extra.audit !== undefined) report.audit = extra.audit;
  return report;
}

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;
const int = (n: number): string => n.toLocaleString("en-US");
const ms = (n: number): string => (n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${Math.round(n)} ms`);

/** Bytes in B / kB / MB / GB (powers of 1000). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let u = -1;
  do {
    n /= 1000;
    u++;
  } while (n >= 1000 && u < units.length - 1);
  return `${n.toFixed(n < 10 ? 2 : 1)} ${units[u]}`;
}

/** The report as an aligned table. */
export function formatReport(r: Report): string {
  const rows: [string, string, string?][] = [];
  const row = (label: string, value: string, note?: string): number => rows.push([label, value, note]);
  row("pages", int(r.pages), `HTML pages fetched and analysed${r.duplicates > 0 ? `; ${int(r.duplicates)} with the text of another URL` : ""}`);
  if (r.redirects > 0) row("redirects", int(r.redirects));
  if (r.other > 0) row("other", int(r.other), "answers that were not HTML");
  row("bytes", formatBytes(r.bytes));
  row("requests", int(r.requests), `at most ${r.settings.concurrency} at once, ${r.settings.perHost} per host`);
  row("retries", int(r.retries), "after a 5xx, a timeout or a network error (backoff with jitter)");
  row("timeouts", int(r.timeouts), `requests stopped at ${ms(r.settings.timeout)}`);
  row("failures", int(r.failures), r.failures > 0 ? "URLs given up on, by kind:" : undefined);
  for (const [kind, n] of Object.entries(r.failuresByKind)) row(`  ${kind}`, int(n));
  if (r.interrupted) row("unfinished", int(r.unfinished), "URLs found but not crawled (interrupted)");
  row("wall time", ms(r.wallMs));
  row("throughput", `${r.pagesPerSecond.toFixed(1)} pages/s`, `${formatBytes(r.bytesPerSecond)}/s`);
  if (r.speedup !== null && r.sample !== null) {
    row("speed-up", `${r.speedup.toFixed(1)}×`, `over concurrency 1: ${r.sample.pages} sampled pages took ${ms(r.sample.wallMs)} (${r.sample.pagesPerSecond.toFixed(1)} pages/s)`);
  }
  if (r.eventLoopDelayP99Ms !== null) row("event loop", `p99 ${r.eventLoopDelayP99Ms.toFixed(1)} ms`, `monitorEventLoopDelay (10 ms sampling) while the CPU step ran in ${r.settings.cpuThreads} worker thread${r.settings.cpuThreads === 1 ? "" : "s"}`);

  const w0 = Math.max(...rows.map(([l]) => l.length));
  const w1 = Math.max(...rows.map(([, v]) => v.length));
  const title = r.interrupted ? `Interrupted crawl of ${r.url}: partial report` : `Crawl of ${r.url}`;
  const lines = [title, ...rows.map(([l, v, note]) => `  ${l.padEnd(w0)}  ${v.padStart(w1)}${note === undefined ? "" : "  " + note}`)];
  if (r.audit !== undefined) {
    lines.push(
      r.audit.length === 0
        ? "Checked against the demo site's own records: every page found exactly once, every failure counted under its kind."
        : `Disagrees with the demo site's records:\n${r.audit.map((p) => `  - ${p}`).join("\n")}`,
    );
  }
  return lines.join("\n");
}
