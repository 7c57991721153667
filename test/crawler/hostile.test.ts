/**
 * The crawler example (examples/crawler/) against a hostile HTTP server (issue 17): a gzip bomb
 * whose Content-Length is under the cap, pathological HTML, pages in a declared legacy charset, a
 * spider trap of endless generated links, a body that drips forever, a redirect loop — and a CPU
 * step that never returns. Each must end the crawl normally, with the page counted under its kind
 * and the damage bounded; none may take the process down or run forever.
 *
 * The analysis's linearity is checked by counting the scanner's steps (n against 4n), never by a
 * clock. Like the example, this imports tsaio as a package ("tsaio" → dist/): build first.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = fileURLToPath(new URL("../..", import.meta.url));
if (!existsSync(join(root, "dist", "index.js"))) throw new Error("test/crawler/hostile.test.ts runs examples/crawler against the built package: run `npm run build` first");

const { run, ThreadPoolExecutor, timeout, workerModule } = await import("tsaio");
const { crawl } = await import("../../examples/crawler/crawler.js");
const { analyze, scanHtml, sniffCharset } = await import("../../examples/crawler/analyze.js");
const analysis = workerModule<typeof import("../../examples/crawler/analyze.js")>(new URL("../../examples/crawler/analyze.js", import.meta.url));

const inLoop = <T>(fn: () => Promise<T>): Promise<T> => run(fn, { handleSigint: false });

// ------------------------------------------------------------------------------ the hostile server

const MiB = 2 ** 20;
/** One gzip member of 1 MiB of zeros (about 1 KB); members concatenated decode to their concatenation. */
const GZ_MEMBER = gzipSync(Buffer.alloc(MiB), { level: 9 });
/** The bomb: 64 MiB once decoded, about 66 KB on the wire (its Content-Length). */
const BOMB_MEMBERS = 64;
const LATIN1_TITLE = "Café Señor — naïve résumé";

/** Bytes of `text` in windows-1252 (latin-1 plus a few: here only latin-1 characters and the em dash). */
function windows1252(text: string): Buffer {
  return Buffer.from([...text].map((ch) => (ch === "—" ? 0x97 : ch.charCodeAt(0))));
}

interface Hostile {
  origin: string;
  /** Requests received, by path. */
  hits: Map<string, number>;
  /** Requests whose connection closed before the server finished its answer. */
  cutOff: Set<string>;
  close(): Promise<void>;
}

async function startHostile(): Promise<Hostile> {
  const hits = new Map<string, number>();
  const cutOff = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    const path = req.url ?? "/";
    hits.set(path, (hits.get(path) ?? 0) + 1);
    res.on("close", () => {
      if (!res.writableFinished) cutOff.add(path);
    });
    const html = (body: string, headers: http.OutgoingHttpHeaders = {}): void => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", ...headers });
      res.end(body);
    };
    if (path === "/") {
      html(`<title>hostile</title>${["/bomb", "/quadratic", "/latin1", "/latin1-meta", "/trap/0", "/drip", "/loop/a"].map((p) => `<a href="${p}">${p}</a>`).join(" ")}`);
    } else if (path === "/bomb") {
      res.writeHead(200, { "content-type": "text/html", "content-encoding": "gzip", "content-length": String(GZ_MEMBER.length * BOMB_MEMBERS) });
      let k = 0;
      const pump = (): void => {
        while (k < BOMB_MEMBERS) {
          k++;
          if (!res.write(GZ_MEMBER)) return void res.once("drain", pump);
        }
        res.end();
      };
      pump();
    } else if (path === "/quadratic") {
      // Each of these took the regex analysis quadratic time: 200 KB of "<a " alone took 10 s.
      html(["<a ", "<!--", "<script", "<title>", "<", '<a href="'].map((u) => u.repeat(20_000)).join("\n"));
    } else if (path === "/latin1") {
      res.writeHead(200, { "content-type": "text/html; charset=ISO-8859-1" });
      res.end(windows1252(`<html><head><title>${LATIN1_TITLE}</title></head><body>déjà vu</body></html>`));
    } else if (path === "/latin1-meta") {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(windows1252(`<html><head><meta charset="windows-1252"><title>${LATIN1_TITLE}</title></head></html>`));
    } else if (path.startsWith("/trap/")) {
      // A spider trap: every page links to two new ones, forever.
      const n = Number(path.slice(6));
      html(`<title>trap ${n}</title><a href="/trap/${2 * n + 1}">a</a> <a href="/trap/${2 * n + 2}">b</a>`);
    } else if (path === "/drip") {
      // Headers at once, then a byte every 50 ms, never ending: only the request timeout stops it.
      res.writeHead(200, { "content-type": "text/html" });
      const t = setInterval(() => res.write(" "), 50);
      timers.add(t);
      res.on("close", () => {
        clearInterval(t);
        timers.delete(t);
      });
    } else if (path === "/loop/a" || path === "/loop/b") {
      res.writeHead(302, { location: path === "/loop/a" ? "/loop/b" : "/loop/a" });
      res.end();
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    hits,
    cutOff,
    close: () => {
      for (const t of timers) clearInterval(t);
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe("the crawler against a hostile server", () => {
  let site: Hostile;
  let pool: InstanceType<typeof ThreadPoolExecutor>;
  before(async () => {
    site = await startHostile();
    pool = new ThreadPoolExecutor({ maxWorkers: 2, name: "hostile-test" });
    await inLoop(() => Promise.all([1, 2].map(() => pool.submit(analysis.fns.analyze, new ArrayBuffer(0), "http://warm.up/"))));
  });
  after(async () => {
    await pool.shutdown();
    await site.close();
  });

  test("the whole hostile site: every page ends under its kind, the bomb is stopped at the cap, the trap at the default maxPages", async () => {
    const maxBytes = MiB;
    // No maxPages: the API's default must end the trap. The guard only fails a crawl that never ends.
    const stats = await inLoop(() => timeout(120_000, () => crawl({ url: `${site.origin}/`, concurrency: 20, timeout: 600, retries: 0, maxBytes, pool })));
    const outcome = (p: string) => stats.outcomes.get(site.origin + p);

    // The gzip bomb: 64 MiB of zeros behind a Content-Length of 66 KB. The cap holds on decoded bytes:
    // the old code read it all (and 1 GiB took 3.2 GB of memory).
    const bomb = outcome("/bomb");
    assert.equal(bomb?.kind === "failed" && bomb.reason, "too large");
    assert.match(bomb?.kind === "failed" ? bomb.message : "", /once decoded \(gzip\)/);
    assert.ok(stats.bytes < 8 * maxBytes, `${stats.bytes} bytes read in all: the bomb was decoded past the cap`);

    // Pathological HTML is analysed (in linear time: see the step-count test below).
    assert.equal(outcome("/quadratic")?.kind, "page");

    // The declared charset, from the header or from <meta>.
    for (const p of ["/latin1", "/latin1-meta"]) {
      const o = outcome(p);
      assert.equal(o?.kind === "page" && o.title, LATIN1_TITLE, p);
    }

    // The drip never ends: the request timeout does, and the server saw the connection cut.
    assert.equal(outcome("/drip")?.kind === "failed" && (outcome("/drip") as { reason: string }).reason, "timeout");
    // The server learns of the cut when the socket's close reaches it, which may come a little after
    // the crawl has returned: wait for it (no fixed sleep; up to 5 s).
    for (let i = 0; i < 500 && !site.cutOff.has("/drip"); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(site.cutOff.has("/drip"));

    // The redirect loop ends by de-duplication: each URL fetched once.
    assert.equal(outcome("/loop/a")?.kind, "redirect");
    assert.equal(outcome("/loop/b")?.kind, "redirect");
    assert.equal(site.hits.get("/loop/a"), 1);

    // The trap: the crawl stopped at the default budget of 1,000 URLs.
    assert.equal(stats.discovered, 1_000);
    assert.equal(stats.done, 1_000);
    assert.equal(stats.interrupted, false);
    assert.equal(stats.inFlight, 0);
  });

  test("a CPU step that never returns is stopped by the analysis timeout; the crawl goes on", async () => {
    // A pool whose every job spins forever, standing for an analysis that does not end.
    const stuck = new ThreadPoolExecutor({ maxWorkers: 2, cancelGracePeriod: 100, name: "stuck" });
    const submitWith = stuck.submitWith.bind(stuck);
    const spin = (): void => {
      for (;;) {
        // never returns
      }
    };
    (stuck as unknown as { submitWith: unknown }).submitWith = (options: { timeout?: number | null }) => submitWith({ timeout: options.timeout }, spin);
    try {
      const stats = await inLoop(() =>
        timeout(60_000, () => crawl({ url: [`${site.origin}/latin1`, `${site.origin}/trap/7`], follow: false, concurrency: 2, analysisTimeout: 200, pool: stuck })),
      );
      for (const p of ["/latin1", "/trap/7"]) {
        const o = stats.outcomes.get(site.origin + p);
        assert.equal(o?.kind === "failed" && o.reason, "analysis timeout", p);
      }
      assert.equal(stats.failures.get("analysis timeout"), 2);
    } finally {
      await stuck.shutdown({ cancelFutures: true });
    }
  });
});

describe("the analysis (the CPU step) is linear in the page's size", () => {
  /** Patterns that made the regex analysis quadratic (or worse), each one page of n repetitions. */
  const patterns = ["<a ", "<!--", "<script", "<style>", "<title>", "<", '<a href="', "<a x=1 ", "</", "<!", "&#x1", "<a\thref=x ", "<base href=", "<p <"];

  for (const unit of patterns) {
    test(`${JSON.stringify(unit)} × n: steps(4n) ≤ 8 × steps(n), and at most a few steps per character`, () => {
      const steps = (reps: number): number => {
        const counter = { steps: 0 };
        analyze(new TextEncoder().encode(unit.repeat(reps)).buffer as ArrayBuffer, "http://h.test/", "text/html", counter);
        return counter.steps;
      };
      const n = 25_000;
      const small = steps(n);
      const large = steps(4 * n);
      assert.ok(small >= n * unit.length, `the scanner counts its steps (${small} for ${n * unit.length} characters)`);
      assert.ok(large <= 8 * small, `quadratic: ${small} steps for n, ${large} for 4n`);
      assert.ok(large <= 3 * 4 * n * unit.length + 100, `${large} steps for ${4 * n * unit.length} characters`);
    });
  }

  test("a page that mixes them all, 1 MB: still a few steps per character (this took hours before)", () => {
    // Each run closed behind it (quote, comment, raw text, tag), so that every pattern is scanned as such.
    const page = patterns.map((u) => u.repeat(Math.ceil(70_000 / u.length))).join(`"'--></script></style></title>>\n`);
    const counter = { steps: 0 };
    scanHtml(page, counter);
    assert.ok(page.length > 900_000);
    assert.ok(counter.steps <= 3 * page.length, `${counter.steps} steps for ${page.length} characters`);
  });

  test("well-formed pages: same links, title and text hash as before", () => {
    const html = `<!DOCTYPE html><html><head><title> A &amp; B </title><base href="/docs/"><!-- <a href="/old"> --></head><body>
      <a href="x">x</a> <a class='k' href='../y#frag'>y</a> <A HREF=/z?q=1&amp;r=2>z</A> <a title="a > b" href="/q">q</a>
      <a href="mailto:a@b.c">m</a> <a href="#top">t</a> <a href="javascript:void(0)">j</a>
      <a href="https://other.example/p">o</a> <a href="x#again">dup</a> <area href="/map">
      <script>var s = "<a href='/not-a-link'>";</script><style>a { content: "<a href=/nope>" }</style></body></html>`;
    const a = analyze(new TextEncoder().encode(html).buffer as ArrayBuffer, "http://h.test/start/page.html");
    assert.deepEqual(a.links, ["http://h.test/docs/x", "http://h.test/y", "http://h.test/z?q=1&r=2", "http://h.test/q", "https://other.example/p", "http://h.test/map"]);
    assert.equal(a.title, "A & B");
    assert.equal(a.charset, "utf-8");
  });

  test("the charset: a BOM, then the header's, then <meta>'s, else UTF-8; unknown labels are ignored", () => {
    const bytes = (s: string) => new TextEncoder().encode(s);
    assert.equal(sniffCharset(bytes("x"), "text/html; charset=ISO-8859-1"), "windows-1252");
    assert.equal(sniffCharset(bytes('<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">'), "text/html"), "koi8-r");
    assert.equal(sniffCharset(bytes("<meta charset=shift_jis>"), ""), "shift_jis");
    assert.equal(sniffCharset(bytes("<meta charset=utf-16>"), ""), "utf-8", "a page cannot declare UTF-16 from inside");
    assert.equal(sniffCharset(bytes("<meta charset=x-bogus>"), "text/html; charset=nonsense"), "utf-8");
    assert.equal(sniffCharset(new Uint8Array([0xef, 0xbb, 0xbf, 0x41]), "text/html; charset=ISO-8859-1"), "utf-8", "the BOM wins");
    const latin = windows1252(`<title>${LATIN1_TITLE}</title>`);
    const body = latin.buffer.slice(latin.byteOffset, latin.byteOffset + latin.byteLength) as ArrayBuffer;
    assert.equal(analyze(body, "http://h.test/", "text/html; charset=latin1").title, LATIN1_TITLE);
    assert.notEqual(analyze(body, "http://h.test/", "text/html").title, LATIN1_TITLE, "without the declaration it is mangled (the old behaviour)");
  });
});
