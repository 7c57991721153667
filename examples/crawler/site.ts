/**
 * The embedded demo site: a node:http server on 127.0.0.1 (a random free port) serving a few thousand
 * linked pages with the behaviour of a real site — random latency, a few pages that fail with 5xx
 * and then recover, a few slow ones beyond any sane timeout, dead links, redirects, and printable
 * copies of some pages (same text under another URL).
 *
 * The site *knows* what it served: `site.plan` says what each URL does and `site.ledger` records
 * every request (and whether the client hung up before the answer was complete), so a test can
 * check a crawl against the truth, and the demo can print "every page found exactly once".
 *
 * Everything is derived from a seed: the same options give the same site.
 * @module
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

/** Options of {@link startSite}; every count defaults to a share of `pages`. */
export interface SiteOptions {
  /** Linked HTML pages: `/` and `/p/1` … `/p/<pages-1>`, all reachable from `/`. Default 2,000. */
  pages?: number;
  /** Latency of an ordinary answer (ms): log-uniform between min and max (mean ≈ 105 ms). Default [10, 400]. */
  latency?: readonly [min: number, max: number];
  /** How long a slow answer takes (ms); the crawler's timeout is expected to cut it. Default 30,000. */
  slowMs?: number;
  /** Pages answering 500/502/503 once or twice before they answer 200. Default 2 % of pages. */
  flaky?: number;
  /** Pages whose first answer is slow and the next ones normal. Default 0.5 %. */
  slowOnce?: number;
  /** URLs (`/slow/<k>`) that are always slow. Default 0.15 %, at least 1. */
  hanging?: number;
  /** URLs (`/report/<k>`) that always answer 500. Default 0.25 %, at least 1. */
  broken?: number;
  /** Dead links (`/p/<pages+k>`, 404). Default 1 %, at least 1. */
  missing?: number;
  /** URLs (`/go/<k>`) redirecting (301/302/307/308) to a page. Default 1.5 %, at least 1. */
  redirects?: number;
  /** Printable copies (`/p/<i>?view=print`): the same text in other markup. Default 0.5 %. */
  duplicates?: number;
  /** Extra links per page to random pages (beyond navigation). Default 6. */
  links?: number;
  /** Seed of the site's structure. Default 1. */
  seed?: number;
}

/** What every URL of the site does (paths with their query string). */
export interface SitePlan {
  /** Every URL that ends up answering 200 with HTML: the pages and their printable copies. */
  readonly pages: readonly string[];
  /** Printable copies (their text duplicates that of the page they copy). */
  readonly duplicates: readonly string[];
  /** Page → how many 5xx answers it gives before the first 200 (1 or 2). */
  readonly flaky: ReadonlyMap<string, number>;
  /** Pages whose first answer is slow. */
  readonly slowOnce: ReadonlySet<string>;
  /** Always slow. */
  readonly hanging: readonly string[];
  /** Always 500. */
  readonly broken: readonly string[];
  /** 404. */
  readonly missing: readonly string[];
  /** Redirect → its target page. */
  readonly redirects: ReadonlyMap<string, string>;
}

/** One URL's requests as the server saw them. */
export interface PathLog {
  /** Each request's outcome in order: the status sent, or "aborted" when the client hung up first. */
  readonly outcomes: (number | "aborted")[];
}

/** Everything the server did. */
export interface Ledger {
  requests: number;
  /** Requests being answered right now. */
  open: number;
  /** The most requests open at once. */
  maxOpen: number;
  /** Requests the client gave up on before the answer was complete. */
  aborted: number;
  bytes: number;
  /** Path (with query) → its requests. */
  readonly paths: Map<string, PathLog>;
}

/** A running demo site. */
export interface Site {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  readonly origin: string;
  readonly options: Required<SiteOptions>;
  readonly plan: SitePlan;
  readonly ledger: Ledger;
  /** How many 200 answers `path` got. */
  served(path: string): number;
  /** Resolves once no request is open, or after `ms` (then returns false). */
  settled(ms?: number): Promise<boolean>;
  /** Stops the server and drops its connections. */
  close(): Promise<void>;
}

/** A small, fast, seeded PRNG (mulberry32). */
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

const WORDS = (
  "asyncio task loop future await cancel timeout gather shield queue semaphore lock event barrier " +
  "worker thread pool executor signal abort retry backoff jitter crawl page link host fetch socket " +
  "stream buffer chunk batch pipeline stage latency throughput budget deadline scope group child " +
  "parent error failure success report metric sample measure clock timer heap ready callback step " +
  "python typescript node runtime module import export function value result promise resolve reject " +
  "the a of to and in is it that for on with as was by at from this be or an are which not have"
).split(" ");

const pagePath = (i: number): string => (i === 0 ? "/" : `/p/${i}`);

function resolveDefaults(o: SiteOptions): Required<SiteOptions> {
  const pages = o.pages ?? 2_000;
  if (!Number.isInteger(pages) || pages < 2) throw new RangeError(`startSite: \`pages\` must be an integer >= 2, got ${pages}`);
  const share = (f: number, min: number): number => Math.max(min, Math.round(pages * f));
  return {
    pages,
    latency: o.latency ?? [10, 400],
    slowMs: o.slowMs ?? 30_000,
    flaky: o.flaky ?? share(0.02, 0),
    slowOnce: o.slowOnce ?? share(0.005, 0),
    hanging: o.hanging ?? share(0.0015, 1),
    broken: o.broken ?? share(0.0025, 1),
    missing: o.missing ?? share(0.01, 1),
    redirects: o.redirects ?? share(0.015, 1),
    duplicates: o.duplicates ?? share(0.005, 0),
    links: o.links ?? 6,
    seed: o.seed ?? 1,
  };
}

interface Structure {
  plan: SitePlan;
  /** Page index → the hrefs on it, as written in its HTML. */
  links: string[][];
  status: Map<string, number>;
}

/** Lays the site out: a random tree (so every page is reachable) plus random extra links. */
function layOut(opt: Required<SiteOptions>, origin: string): Structure {
  const rnd = prng(opt.seed);
  const n = opt.pages;
  const pick = (k: number): number => Math.floor(rnd() * k);
  const targets: string[][] = Array.from({ length: n }, () => []);
  for (let i = 1; i < n; i++) targets[pick(i)].push(pagePath(i)); // the tree: a parent before each page
  for (let i = 0; i < n; i++) for (let k = 0; k < opt.links; k++) targets[i].push(pagePath(pick(n)));

  // Distinct pages for flaky / slow-once / printable (never the home page).
  const order = Array.from({ length: n - 1 }, (_, i) => i + 1);
  for (let i = order.length - 1; i > 0; i--) {
    const j = pick(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  let next = 0;
  const take = (k: number): number[] => order.slice(next, (next = Math.min(order.length, next + k)));
  const flaky = new Map(take(opt.flaky).map((i) => [pagePath(i), 1 + pick(2)] as const));
  const slowOnce = new Set(take(opt.slowOnce).map(pagePath));
  const duplicates = take(opt.duplicates).map((i) => `${pagePath(i)}?view=print`);
  const hanging = Array.from({ length: opt.hanging }, (_, k) => `/slow/${k}`);
  const broken = Array.from({ length: opt.broken }, (_, k) => `/report/${k}`);
  const missing = Array.from({ length: opt.missing }, (_, k) => `/p/${n + k}`);
  const redirects = new Map(Array.from({ length: opt.redirects }, (_, k) => [`/go/${k}`, pagePath(1 + pick(n - 1))] as const));
  // Each special URL is linked from one to three random pages.
  for (const url of [...duplicates, ...hanging, ...broken, ...missing, ...redirects.keys()]) {
    for (let c = 1 + pick(3); c > 0; c--) targets[pick(n)].push(url);
  }
  // The printable copy is also linked from its own page.
  for (const url of duplicates) targets[Number(url.slice(3, url.indexOf("?")))].push(url);

  // Write each link the way real pages do: absolute path, full URL, relative, with a fragment.
  const links = targets.map((list, i) =>
    list.map((t) => {
      const r = rnd();
      if (r < 0.4) return t;
      if (r < 0.6) return origin + t;
      if (r < 0.8 && i > 0 && t.startsWith("/p/")) return t.slice(3); // relative to /p/<i>
      return `${t}#s${pick(5)}`;
    }),
  );
  const status = new Map<string, number>();
  for (const p of broken) status.set(p, 500);
  for (const p of missing) status.set(p, 404);
  const pages = [...Array.from({ length: n }, (_, i) => pagePath(i)), ...duplicates];
  return { plan: { pages, duplicates, flaky, slowOnce, hanging, broken, missing, redirects }, links, status };
}

/** 1,024 sentences made once; pages are random sequences of them (cheap to render, all distinct). */
const SENTENCES = (() => {
  const rnd = prng(42);
  return Array.from({ length: 1_024 }, () => {
    const w = Array.from({ length: 6 + Math.floor(rnd() * 14) }, () => WORDS[Math.floor(rnd() * WORDS.length)]);
    w[0] = w[0][0].toUpperCase() + w[0].slice(1);
    return w.join(" ") + ".";
  });
})();

/** The HTML of page `i` (printable or not): deterministic, 5–45 KB, mostly text. */
function renderPage(opt: Required<SiteOptions>, i: number, links: string[], printable: boolean): string {
  const rnd = prng(opt.seed * 7_919 + i);
  const word = (): string => WORDS[Math.floor(rnd() * WORDS.length)];
  const title = `Page ${i}: ${word()} ${word()}`;
  const out: string[] = [
    "<!doctype html>",
    `<html lang="en"><head><meta charset="utf-8"><title>${title}</title>`,
    printable ? '<link rel="stylesheet" href="/print.css" media="print">' : '<link rel="stylesheet" href="/site.css">',
    `</head><body class="${printable ? "print" : "page"}">`,
    `<nav><a href="/">Home</a> <a href="mailto:webmaster@example.com">Contact</a> <a href="https://example.com/about">About us</a> <a href="javascript:void(0)">Menu</a></nav>`,
    `<h1 id="top">${title}</h1>`,
  ];
  const paragraphs = 10 + Math.floor(rnd() * 100);
  let l = 0;
  for (let p = 0; p < paragraphs; p++) {
    const parts: string[] = [];
    for (let s = 2 + Math.floor(rnd() * 5); s > 0; s--) parts.push(SENTENCES[Math.floor(rnd() * SENTENCES.length)]);
    // Spread the links over the first paragraphs, in the different quoting styles of real HTML.
    if (l < links.length) {
      const href = links[l++];
      const q = rnd();
      const a = q < 0.7 ? `<a href="${href}">${word()} ${word()}</a>` : q < 0.9 ? `<a class='x' href='${href}'>${word()}</a>` : `<A HREF=${href}>${word()}</A>`;
      parts.splice(1, 0, a);
    }
    out.push(`<p id="s${p % 5}">${parts.join(" ")}</p>`);
  }
  while (l < links.length) out.push(`<p><a href="${links[l++]}">see also</a></p>`);
  out.push("</body></html>");
  return out.join("\n");
}

/** Starts the demo site on 127.0.0.1 with a free port. */
export async function startSite(options: SiteOptions = {}): Promise<Site> {
  const opt = resolveDefaults(options);
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  const { plan, links, status } = layOut(opt, origin);
  const ledger: Ledger = { requests: 0, open: 0, maxOpen: 0, aborted: 0, bytes: 0, paths: new Map() };
  const rnd = prng(opt.seed ^ 0x5eed);
  const [lo, hi] = opt.latency;
  const latency = (): number => lo * (hi / Math.max(lo, 1e-3)) ** rnd(); // log-uniform in [lo, hi]
  const idle: (() => void)[] = [];

  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = req.url ?? "/";
    let log = ledger.paths.get(path);
    if (log === undefined) ledger.paths.set(path, (log = { outcomes: [] }));
    const attempt = log.outcomes.length; // how many requests this URL had before
    const entry = log.outcomes.push("aborted") - 1; // until the answer is complete
    ledger.requests++;
    ledger.maxOpen = Math.max(ledger.maxOpen, ++ledger.open);
    let timer: NodeJS.Timeout | undefined;
    res.on("close", () => {
      clearTimeout(timer);
      if (!res.writableFinished) ledger.aborted++;
      if (--ledger.open === 0) for (const wake of idle.splice(0)) wake();
    });
    const send = (code: number, headers: http.OutgoingHttpHeaders, text: string): void => {
      const body = Buffer.from(text);
      log.outcomes[entry] = code;
      ledger.bytes += body.length;
      res.writeHead(code, { "content-type": "text/html; charset=utf-8", "content-length": body.length, ...headers });
      res.end(body);
    };

    const slow = plan.hanging.includes(path) || (attempt === 0 && plan.slowOnce.has(path));
    if (slow) {
      // Half of them stall before the headers, half in the middle of the body.
      const half = ledger.requests % 2 === 0;
      if (half) {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        res.write("<!doctype html><html><head><title>Loading");
      }
      timer = setTimeout(() => {
        log.outcomes[entry] = 200;
        res.end("</title></head><body>Finally.</body></html>");
      }, opt.slowMs);
      return;
    }
    timer = setTimeout(() => {
      const fixed = status.get(path);
      if (fixed !== undefined) return send(fixed, {}, `<!doctype html><title>${fixed}</title><h1>Error ${fixed}</h1>`);
      const failures = plan.flaky.get(path) ?? 0;
      if (attempt < failures) {
        const code = [500, 502, 503][(attempt + path.length) % 3];
        return send(code, {}, `<!doctype html><title>${code}</title><h1>Try again later</h1>`);
      }
      const target = plan.redirects.get(path);
      if (target !== undefined) {
        const code = [301, 302, 307, 308][path.length % 4];
        return send(code, { location: path.length % 2 === 0 ? target : origin + target }, "");
      }
      const print = path.endsWith("?view=print");
      const m = /^\/(?:p\/(\d+))?$/.exec(print ? path.slice(0, -"?view=print".length) : path);
      const i = m === null ? -1 : m[1] === undefined ? 0 : Number(m[1]);
      if (i >= 0 && i < opt.pages) return send(200, {}, renderPage(opt, i, links[i], print));
      if (path === "/site.css" || path === "/print.css") return send(200, { "content-type": "text/css" }, "body{font:16px serif}");
      return send(404, {}, "<!doctype html><title>404</title><h1>Not found</h1>");
    }, latency());
  });

  return {
    url: origin + "/",
    origin,
    options: opt,
    plan,
    ledger,
    served: (path) => ledger.paths.get(path)?.outcomes.filter((o) => o === 200).length ?? 0,
    settled: (ms = 2_000) =>
      ledger.open === 0
        ? Promise.resolve(true)
        : new Promise<boolean>((resolve) => {
            const t = setTimeout(() => resolve(false), ms);
            idle.push(() => {
              clearTimeout(t);
              resolve(true);
            });
          }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * What a complete crawl of `site` must report when it makes at least 3 attempts per URL (every
 * flaky and slow-once page then recovers) and has no page limit.
 */
export function expectedReport(site: Site): { pages: number; redirects: number; duplicates: number; failures: Record<string, number> } {
  const { plan } = site;
  const failures: Record<string, number> = {};
  if (plan.hanging.length > 0) failures.timeout = plan.hanging.length;
  if (plan.broken.length > 0) failures["http 500"] = plan.broken.length;
  if (plan.missing.length > 0) failures["http 404"] = plan.missing.length;
  return { pages: plan.pages.length, redirects: plan.redirects.size, duplicates: plan.duplicates.length, failures };
}

/** What a crawl reports, as far as the audit needs it (a `CrawlStats`). */
export interface CrawlCounts {
  readonly outcomes: ReadonlyMap<string, { kind: string; reason?: string }>;
  readonly failures: ReadonlyMap<string, number>;
  readonly pages: number;
  readonly redirects: number;
  readonly duplicates: number;
  readonly retries: number;
  readonly timeouts: number;
  readonly inFlight: number;
}

/**
 * Compares a complete crawl (at least 3 attempts per URL, no page limit) with what the site planned
 * and what it served; returns the disagreements (none: the crawl is exact). Call it right after the
 * crawl, once `site.settled()`: later requests (a speed-up sample) would count as repeats.
 */
export function auditCrawl(site: Site, stats: CrawlCounts): string[] {
  const problems: string[] = [];
  const expected = expectedReport(site);
  const { plan, ledger } = site;
  const pages = new Set(plan.pages);
  for (const path of plan.pages) {
    const o = stats.outcomes.get(site.origin + path);
    if (o?.kind !== "page") problems.push(`page ${path}: ${o === undefined ? "never found" : `${o.kind}${o.reason === undefined ? "" : " " + o.reason}`}`);
    const n = site.served(path);
    if (n !== 1) problems.push(`page ${path} was served ${n} times`);
  }
  for (const [url, o] of stats.outcomes) {
    if (o.kind === "page" && !pages.has(url.slice(site.origin.length))) problems.push(`${url} counted as a page, but it is not one`);
  }
  const eq = (what: string, got: number, want: number): void => {
    if (got !== want) problems.push(`${what}: reported ${got}, expected ${want}`);
  };
  eq("pages", stats.pages, expected.pages);
  eq("redirects", stats.redirects, expected.redirects);
  eq("duplicates", stats.duplicates, expected.duplicates);
  const kinds = new Set([...Object.keys(expected.failures), ...stats.failures.keys()]);
  for (const kind of kinds) eq(`failures "${kind}"`, stats.failures.get(kind) ?? 0, expected.failures[kind] ?? 0);
  // Every request after a URL's first is a retry; every request the client hung up on was a timeout.
  let repeats = 0;
  for (const log of ledger.paths.values()) repeats += log.outcomes.length - 1;
  eq("retries (the site saw repeated requests)", stats.retries, repeats);
  eq("timeouts (the site saw abandoned requests)", stats.timeouts, ledger.aborted);
  eq("requests in flight (crawler)", stats.inFlight, 0);
  eq("requests open (site)", ledger.open, 0);
  return problems;
}
