/**
 * `npm start`: crawls an embedded demo site (or a real one with `--url`) and prints a report.
 * Run `npx tsx examples/crawler/main.ts --help` for the options.
 *
 * Ctrl-C cancels the main task (tsaio's `run()`): the workers' requests abort, the thread pool shuts
 * down, the `finally` below prints the partial report, and `run()` exits with code 130.
 * @module
 */
import { availableParallelism } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { run, ThreadPoolExecutor } from "tsaio";
import { crawl, CrawlStats, warmUp } from "./crawler.js";
import { withProgress } from "./progress.js";
import { buildReport, formatReport, type Report, type SampleResult } from "./report.js";
import { auditCrawl, startSite, type Site } from "./site.js";

const USAGE = `Usage: npm start -- [options]      (or: npx tsx examples/crawler/main.ts [options])

Crawls a web site concurrently with tsaio and prints a report. Without --url it starts an embedded
demo site (2,000 linked pages with random latency, 5xx errors, slow pages, dead links, redirects),
crawls it, and checks the report against what the site served.

Options:
  --url <url>          start URL of a real site (links are followed on its host only)
  --concurrency <n>    worker tasks: the most requests in flight (default 50)
  --per-host <n>       the most requests in flight to one host
                       (default: --concurrency on the demo site, 6 with --url)
  --timeout <ms>       time limit of one request, body included
                       (default 1000 on the demo site, 10000 with --url)
  --retries <n>        extra attempts after a 5xx, a timeout or a network error (default 2)
  --max-pages <n>      the most URLs fetched (default: no limit on the demo site, 1000 with --url)
  --sample <n>         pages fetched again with concurrency 1 to measure the speed-up
                       (default 20; 0 skips it)
  --all-hosts          follow links to other hosts too
  --json               print the report as one JSON object on stdout (progress goes to stderr);
                       through npm, add --silent so that npm's own lines stay out of it:
                       npm start --silent -- --json > report.json
  -h, --help           print this help

Exit status: 0 crawled, 1 nothing could be fetched, 2 bad options, 130 interrupted (Ctrl-C).`;

interface Cli {
  url: string | undefined;
  concurrency: number;
  perHost: number;
  timeout: number;
  retries: number;
  maxPages: number | undefined;
  sample: number;
  allHosts: boolean;
  json: boolean;
}

class UsageError extends Error {}

/** Parses the command line; throws UsageError with a one-line message. */
function parseCommandLine(argv: string[]): Cli | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: "string" },
        concurrency: { type: "string" },
        "per-host": { type: "string" },
        timeout: { type: "string" },
        retries: { type: "string" },
        "max-pages": { type: "string" },
        sample: { type: "string" },
        "all-hosts": { type: "boolean" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    // Node's messages go on with advice about "--"; the first sentence is the error.
    const first = (e as Error).message.split(/\.\s/)[0].replace(/\.$/, "");
    throw new UsageError(first[0].toLowerCase() + first.slice(1));
  }
  if (values.help === true) return "help";
  const int = (name: string, min: number, fallback: number): number => {
    const raw = (values as Record<string, unknown>)[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!/^\s*\d+\s*$/.test(String(raw)) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got '${String(raw)}'`);
    return n;
  };
  let url: string | undefined;
  if (values.url !== undefined) {
    let u: URL;
    try {
      u = new URL(values.url);
    } catch {
      throw new UsageError(`--url must be an absolute http(s) URL, got '${values.url}'`);
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new UsageError(`--url must be an http(s) URL, got '${values.url}'`);
    url = u.href;
  }
  const demo = url === undefined;
  const concurrency = int("concurrency", 1, 50);
  return {
    url,
    concurrency,
    perHost: int("per-host", 1, demo ? concurrency : 6),
    timeout: int("timeout", 1, demo ? 1_000 : 10_000),
    retries: int("retries", 0, 2),
    maxPages: values["max-pages"] === undefined ? (demo ? undefined : 1_000) : int("max-pages", 1, 0),
    sample: int("sample", 0, 20),
    allHosts: values["all-hosts"] === true,
    json: values.json === true,
  };
}

const int = (n: number): string => n.toLocaleString("en-US");

/** Fetches `n` random pages of the crawl again, one at a time, with the same settings. */
async function measureSample(stats: CrawlStats, n: number, cli: Cli, pool: ThreadPoolExecutor): Promise<SampleResult> {
  const pages = [...stats.outcomes].filter(([, o]) => o.kind === "page").map(([url]) => url);
  for (let i = pages.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [pages[i], pages[j]] = [pages[j], pages[i]];
  }
  const sample = await crawl({ url: pages.slice(0, n), follow: false, concurrency: 1, timeout: cli.timeout, retries: cli.retries, pool });
  return { pages: sample.pages, wallMs: sample.wallMs };
}

async function main(cli: Cli): Promise<number> {
  const out = cli.json ? process.stderr : process.stdout; // what people read; stdout is the JSON's
  const say = (line: string): boolean => out.write(line + "\n");
  let site: Site | null = null;
  if (cli.url === undefined) {
    site = await startSite();
    const p = site.plan;
    say(`Demo site on ${site.url}: ${int(p.pages.length)} pages (${p.flaky.size} answer 5xx before they work, ${p.slowOnce.size} are slow once), ` +
      `${p.hanging.length} always too slow, ${p.broken.length} broken (500), ${p.missing.length} dead links (404), ${p.redirects.size} redirects; latency ${site.options.latency.join("–")} ms.`);
  }
  const url = cli.url ?? (site as Site).url;
  const cpuThreads = Math.max(1, Math.min(8, availableParallelism() - 1)); // a core stays with the event loop
  const settings: Report["settings"] = { concurrency: cli.concurrency, perHost: cli.perHost, timeout: cli.timeout, retries: cli.retries, maxPages: cli.maxPages ?? null, cpuThreads };
  say(`Crawling ${url} with ${cli.concurrency} workers (${cli.perHost} per host), a ${int(cli.timeout)} ms timeout and ${cli.retries} retries; the CPU step runs in ${cpuThreads} worker thread${cpuThreads === 1 ? "" : "s"}.`);

  const stats = new CrawlStats();
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  let sample: SampleResult | null = null;
  let audit: string[] | undefined;
  try {
    await using pool = new ThreadPoolExecutor({ maxWorkers: cpuThreads, name: "crawler" });
    await warmUp(pool, cpuThreads); // start the threads now, not when the first page arrives
    loopDelay.enable();
    try {
      const options = { url, concurrency: cli.concurrency, perHost: cli.perHost, timeout: cli.timeout, retries: cli.retries, maxPages: cli.maxPages ?? Infinity, allHosts: cli.allHosts, pool };
      await withProgress(stats, out, () => crawl(options, stats));
    } finally {
      loopDelay.disable();
    }
    if (site !== null && cli.retries >= 2 && cli.maxPages === undefined) {
      await site.settled();
      audit = auditCrawl(site, stats);
    }
    if (cli.sample > 0 && stats.pages > 0) {
      say(`Measuring the speed-up: ${Math.min(cli.sample, stats.pages)} of these pages fetched again, one at a time…`);
      sample = await measureSample(stats, cli.sample, cli, pool);
    }
  } finally {
    // Reached on success, on error, and on Ctrl-C (the pool was shut down just before).
    if (stats.interrupted) say("\nInterrupted: the requests in flight were aborted and the worker threads stopped.");
    const p99 = loopDelay.count > 0 ? loopDelay.percentile(99) / 1e6 : null;
    const report = buildReport(url, stats, settings, { sample, eventLoopDelayP99Ms: p99, audit });
    if (cli.json) process.stdout.write(JSON.stringify(report, null, 2) + "\n");
    else say("\n" + formatReport(report));
    await site?.close();
  }
  return stats.pages === 0 ? 1 : 0;
}

// `npm start -- --help | head` or `… --json | jq .pages` may close stdout early: that is no error.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code !== "EPIPE") throw e;
  process.exit(process.exitCode ?? 0);
});

let cli: Cli | "help";
try {
  cli = parseCommandLine(process.argv.slice(2));
} catch (e) {
  if (!(e instanceof UsageError)) throw e;
  process.stderr.write(`error: ${e.message}\n\n${USAGE}\n`);
  process.exit(2);
}
if (cli === "help") {
  process.stdout.write(USAGE + "\n");
} else {
  const options = cli;
  process.exitCode = await run(() => main(options));
}
