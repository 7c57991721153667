/**
 * The crawler example (examples/crawler/) against its embedded site, in-process, on the real clock:
 * the report's counts must match what the site knows it served. Plus the CLI's Ctrl-C and bad-option
 * handling, in a child process.
 *
 * Like the example, this imports tsaio as a package ("tsaio" → dist/): build first (`npm ci` does).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const dist = join(root, "dist", "index.js");
if (!existsSync(dist)) throw new Error("test/crawler/crawler.test.ts runs examples/crawler against the built package: run `npm run build` first");

const { CancelledError, createTask, run, sleep, ThreadPoolExecutor, workerModule } = await import("tsaio");
const { crawl, CrawlStats } = await import("../../examples/crawler/crawler.js");
const { analyze } = await import("../../examples/crawler/analyze.js");
const { auditCrawl, expectedReport, startSite } = await import("../../examples/crawler/site.js");
const analysis = workerModule<typeof import("../../examples/crawler/analyze.js")>(new URL("../../examples/crawler/analyze.js", import.meta.url));

/** Runs `fn` as the main task of a fresh tsaio loop (no SIGINT handler: this is a test). */
const inLoop = <T>(fn: () => Promise<T>): Promise<T> => run(fn, { handleSigint: false });

function newestSource(dir: string): number {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newestSource(p) : s.mtimeMs);
  }
  return t;
}

describe("crawler example", () => {
  let pool: InstanceType<typeof ThreadPoolExecutor>;
  before(() => {
    if (newestSource(join(root, "src")) > statSync(dist).mtimeMs) console.warn("test/crawler/crawler.test.ts: dist/ is older than src/; this tests the last build (npm run build)");
    pool = new ThreadPoolExecutor({ maxWorkers: 2, name: "crawler-test" });
  });
  // Start the pool's threads before the clock matters (under tsx, a thread takes a while to boot).
  before(() => inLoop(() => Promise.all([1, 2].map(() => pool.submit(analysis.fns.analyze, new ArrayBuffer(0), "http://h.test/")))));
  after(() => pool.shutdown());

  test("crawls the whole site: every page once, every injected failure under its kind, nothing left in flight", async () => {
    const site = await startSite({ pages: 200, latency: [1, 20], seed: 7 });
    try {
      const { plan } = site;
      // What the site injected, so that this test checks something.
      assert.ok(plan.flaky.size >= 3 && plan.slowOnce.size >= 1 && plan.hanging.length >= 1 && plan.broken.length >= 1);
      assert.ok(plan.missing.length >= 2 && plan.redirects.size >= 3 && plan.duplicates.length >= 1);

      const stats = await inLoop(() => crawl({ url: site.url, concurrency: 20, timeout: 800, retries: 2, backoff: 20, pool }));
      assert.equal(stats.interrupted, false);
      // The site learns that a request was abandoned when its socket closes, a moment later.
      assert.ok(await site.settled(2_000), `${site.ledger.open} requests still open on the site`);
      const url = (path: string): string => site.origin + path;

      // Every page found, and fetched successfully exactly once.
      const pages = [...stats.outcomes].filter(([, o]) => o.kind === "page").map(([u]) => u);
      assert.deepEqual(pages.sort(), plan.pages.map(url).sort());
      assert.deepEqual(plan.pages.filter((p) => site.served(p) !== 1), [], "pages not served exactly once");
      assert.equal(stats.pages, plan.pages.length);
      assert.equal(stats.duplicates, plan.duplicates.length, "the printable copies have the text of their page");

      // Every injected failure, under its kind.
      const reasons = (paths: Iterable<string>) => [...paths].map((p) => { const o = stats.outcomes.get(url(p)); return o?.kind === "failed" ? o.reason : o?.kind; });
      assert.deepEqual(reasons(plan.hanging), plan.hanging.map(() => "timeout"));
      assert.deepEqual(reasons(plan.broken), plan.broken.map(() => "http 500"));
      assert.deepEqual(reasons(plan.missing), plan.missing.map(() => "http 404"));
      assert.deepEqual(reasons(plan.redirects.keys()), [...plan.redirects.keys()].map(() => "redirect"));
      assert.deepEqual(Object.fromEntries(stats.failures), expectedReport(site).failures);
      assert.equal(stats.failed, plan.hanging.length + plan.broken.length + plan.missing.length);
      assert.equal(stats.redirects, plan.redirects.size);

      // Retries and timeouts, as the site saw them: a flaky page was asked until it answered, a
      // slow-once page twice, a hanging URL three times (and each time the crawler hung up).
      for (const [p, failures] of plan.flaky) assert.equal(site.ledger.paths.get(p)?.outcomes.length, failures + 1, p);
      for (const p of plan.slowOnce) assert.deepEqual(site.ledger.paths.get(p)?.outcomes, ["aborted", 200], p);
      for (const p of plan.hanging) assert.deepEqual(site.ledger.paths.get(p)?.outcomes, ["aborted", "aborted", "aborted"], p);
      for (const p of plan.broken) assert.deepEqual(site.ledger.paths.get(p)?.outcomes, [500, 500, 500], p);
      for (const p of plan.missing) assert.deepEqual(site.ledger.paths.get(p)?.outcomes, [404], p);
      let repeats = 0;
      for (const log of site.ledger.paths.values()) repeats += log.outcomes.length - 1;
      assert.equal(stats.retries, repeats);
      assert.equal(stats.timeouts, site.ledger.aborted);
      assert.equal(stats.requests, site.ledger.requests);

      // Nothing left in flight: the crawler's count, and the site's open requests (settled above).
      assert.equal(stats.inFlight, 0);
      assert.equal(site.ledger.open, 0);
      assert.ok(site.ledger.maxOpen <= 20, `at most 20 requests at once, saw ${site.ledger.maxOpen}`);
      assert.deepEqual(auditCrawl(site, stats), []);
    } finally {
      await site.close();
    }
  });

  test("the per-host semaphore bounds the requests in flight; maxPages bounds the crawl", async () => {
    const site = await startSite({ pages: 120, latency: [5, 15], flaky: 0, slowOnce: 0, hanging: 0, broken: 0, seed: 3 });
    try {
      const stats = await inLoop(() => crawl({ url: site.url, concurrency: 16, perHost: 3, maxPages: 50, timeout: 2_000, pool }));
      assert.equal(stats.discovered, 50);
      assert.equal(stats.done, 50);
      assert.equal(site.ledger.requests, 50);
      assert.ok(site.ledger.maxOpen <= 3, `at most 3 requests at once, saw ${site.ledger.maxOpen}`);
      assert.equal(stats.outcomes.get(site.url)?.depth, 0);
    } finally {
      await site.close();
    }
  });

  test("cancelling the crawl aborts the requests in flight at once and reports what was done", async () => {
    const site = await startSite({ pages: 400, latency: [300, 600], seed: 5 });
    try {
      const stats = new CrawlStats();
      const t0 = performance.now();
      let cancelledAt = 0;
      await assert.rejects(
        inLoop(async () => {
          // No `pool`: the crawl makes its own and must shut it down on the way out.
          const task = createTask(() => crawl({ url: site.url, concurrency: 30, timeout: 5_000 }, stats));
          while (stats.pages < 10 || stats.inFlight < 10) await sleep(20);
          cancelledAt = performance.now();
          task.cancel();
          await task;
        }),
        CancelledError,
      );
      assert.ok(performance.now() - t0 < 10_000);
      assert.equal(stats.interrupted, true);
      assert.equal(stats.inFlight, 0);
      assert.ok(stats.pending > 0, "URLs were left");
      // The site's requests end now, not after their 300–600 ms latency.
      assert.ok(await site.settled(1_000), `${site.ledger.open} requests still open on the site`);
      assert.ok(site.ledger.aborted >= 1);
      assert.ok(performance.now() - cancelledAt < 3_000);
    } finally {
      await site.close();
    }
  });

  test("the CPU step: links resolved, fragments and non-http links dropped, text hashed", () => {
    const html = `<html><head><title> A &amp; B </title><base href="/docs/"><!-- <a href="/old"> --></head><body>
      <a href="x">x</a> <a class='k' href='../y#frag'>y</a> <A HREF=/z?q=1&amp;r=2>z</A>
      <a href="mailto:a@b.c">m</a> <a href="#top">t</a> <a href="javascript:void(0)">j</a>
      <a href="https://other.example/p">o</a> <a href="x#again">dup</a> <area href="/map">
      <script>var s = "<a href='/not-a-link'>";</script></body></html>`;
    const body = new TextEncoder().encode(html);
    const a = analyze(body.buffer, "http://h.test/start/page.html");
    assert.deepEqual(a.links, ["http://h.test/docs/x", "http://h.test/y", "http://h.test/z?q=1&r=2", "https://other.example/p", "http://h.test/map"]);
    assert.equal(a.title, "A & B");
    const same = analyze(new TextEncoder().encode(html.replace("<body>", '<body class="print">')).buffer, "http://h.test/");
    assert.equal(same.textHash, a.textHash, "markup changes keep the text hash");
    assert.notEqual(same.bodyHash, a.bodyHash);
  });
});

describe("crawler CLI", () => {
  const main = join(root, "examples", "crawler", "main.ts");
  function cli(args: string[], onStderr?: (text: string, child: ReturnType<typeof spawn>) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", main, ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d));
      child.stderr.on("data", (d: Buffer) => {
        stderr += d;
        onStderr?.(stderr, child);
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      child.on("error", reject);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  test("a bad option: one line of error, the usage, exit code 2", async () => {
    const [bogus, zero] = await Promise.all([cli(["--bogus"]), cli(["--concurrency", "0"])]);
    assert.equal(bogus.code, 2);
    assert.equal(bogus.stdout, "");
    const [first, blank, usage] = bogus.stderr.split("\n");
    assert.equal(first, "error: unknown option '--bogus'");
    assert.equal(blank, "");
    assert.match(usage, /^Usage: /);
    assert.match(bogus.stderr, /--max-pages <n>/);
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /^error: --concurrency must be an integer >= 1, got '0'\n\nUsage: /);
  });

  test("Ctrl-C: the partial report is printed (as JSON with --json) and the exit code is 130", async () => {
    let sent = false;
    const r = await cli(["--json", "--sample", "0"], (stderr, child) => {
      // Progress comes once a second when stderr is not a terminal: interrupt once pages are done.
      const done = [...stderr.matchAll(/\] ([\d,]+)\/[\d,]+ URLs done/g)].map((m) => Number(m[1].replace(/,/g, "")));
      if (!sent && done.some((n) => n >= 20)) {
        sent = true;
        child.kill("SIGINT");
      }
    });
    assert.ok(sent, r.stderr);
    assert.equal(r.code, 130, r.stderr);
    const report = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(report.interrupted, true);
    for (const k of ["pages", "failures", "retries", "timeouts", "wallMs"]) assert.equal(typeof report[k], "number", k);
    assert.ok((report.pages as number) > 0);
    assert.ok((report.unfinished as number) > 0);
    assert.equal(report.inFlight, 0);
    assert.match(r.stderr, /Interrupted: the requests in flight were aborted/);
  });
});
