/**
 * A concurrent web crawler in tsaio style — the whole asyncio story in one file:
 *
 * - a `taskGroup` of worker tasks: if one crashes, the others are cancelled and awaited, and
 *   cancelling the crawl (Ctrl-C) cancels every worker;
 * - fed by a bounded `Queue` (`put()` waits while it is full: backpressure), itself fed from a
 *   `PriorityQueue` frontier, shallowest pages first, so that `maxPages` keeps the closest pages;
 * - a `Semaphore` per host bounding the requests in flight to each host;
 * - `fetch` with the task's `signal` under a per-request `timeout()`: on expiry (or Ctrl-C) the
 *   socket is closed, not merely abandoned;
 * - `retry()` with exponential backoff and full jitter for 5xx answers, timeouts and network errors;
 * - de-duplication of URLs (fragments removed) before they are queued;
 * - the CPU step (parse the links, hash the text) on a `ThreadPoolExecutor`, so the event loop stays
 *   free for the sockets, under a time limit of its own.
 *
 * It is written for servers nobody vouches for: a body is capped on its *decoded* size while it
 * streams in (a gzip bomb stops at `maxBytes`, whatever its Content-Length says), the analysis is
 * linear in the page's size (analyze.ts), a page's declared charset is honoured, and `maxPages`
 * has a finite default (a spider trap, a site of endless generated links, ends).
 *
 * `crawl()` fills a {@link CrawlStats} as it goes, so whoever holds it can show progress and, when the
 * crawl is interrupted, report what was done.
 * @module
 */
import { availableParallelism } from "node:os";
import {
  CancelledError,
  currentTask,
  type Executor,
  gather,
  PriorityQueue,
  Queue,
  retry,
  Semaphore,
  taskGroup,
  ThreadPoolExecutor,
  timeout,
  TimeoutError,
  workerModule,
} from "tsaio";
import { analyze, type Analysis } from "./analyze.js";

/** The CPU step's module as the pool's threads see it: `analysis.fns.analyze` is typed from analyze.ts. */
const analysis = workerModule<typeof import("./analyze.js")>(new URL("./analyze.js", import.meta.url));

/** Options of {@link crawl}. */
export interface CrawlOptions {
  /** Where to start: one URL or several. */
  url: string | readonly string[];
  /** Worker tasks, hence the most requests (and CPU steps) at once. Default 50. */
  concurrency?: number;
  /** The most requests in flight to one host. Default: `concurrency`. */
  perHost?: number;
  /** Time limit of one request, body included (ms). Default 10,000. */
  timeout?: number;
  /** Extra attempts after a 5xx answer, a timeout or a network error. Default 2. */
  retries?: number;
  /** Delay before the first retry (ms); doubled for each next one, then fully jittered. Default 200. */
  backoff?: number;
  /** The most URLs fetched (links beyond are ignored). Default 1,000; `Infinity` for no limit. */
  maxPages?: number;
  /** Follow links to other hosts too. Default false: stay on the start URLs' hosts. */
  allHosts?: boolean;
  /** Follow links at all (false: fetch the start URLs only). Default true. */
  follow?: boolean;
  /** Largest body read (bytes, once decoded); a bigger page fails as "too large". Default 10 MB. */
  maxBytes?: number;
  /** Time limit of one page's analysis in the pool (ms); past it the page fails as "analysis timeout". Default 10,000. */
  analysisTimeout?: number;
  /**
   * The executor running the CPU step. Default: a ThreadPoolExecutor made and shut down by `crawl`.
   * `null` runs it on the event loop instead (only to measure what the pool saves: don't).
   */
  pool?: Executor | null;
  /** The `user-agent` header. */
  userAgent?: string;
}

/** What became of one URL. */
export type Outcome =
  | { kind: "page"; depth: number; status: number; bytes: number; title: string; links: number; words: number; textHash: string }
  | { kind: "redirect"; depth: number; status: number; location: string }
  | { kind: "other"; depth: number; status: number; contentType: string }
  | { kind: "failed"; depth: number; reason: string; message: string };

/** The crawl's counters, updated live (read them for progress, or for a partial report). */
export class CrawlStats {
  /** When the crawl started (performance.now()). */
  startedAt = performance.now();
  endedAt: number | null = null;
  /** Distinct URLs scheduled so far. */
  discovered = 0;
  /** URLs finished, whatever their outcome. */
  done = 0;
  /** HTML pages fetched and analysed. */
  pages = 0;
  /** Pages whose text was already seen under another URL. */
  duplicates = 0;
  redirects = 0;
  /** Answers that were not HTML (not parsed). */
  other = 0;
  /** Body bytes received. */
  bytes = 0;
  /** HTTP requests made (attempts, retries included). */
  requests = 0;
  retries = 0;
  /** Requests that exceeded the timeout (including ones retried successfully). */
  timeouts = 0;
  /** Requests in flight now. */
  inFlight = 0;
  /** URLs a worker is on now (requesting, waiting to retry, or analysing). */
  active = 0;
  /** URLs that failed for good, by kind (`timeout`, `http 404`, `network ECONNREFUSED`…). */
  readonly failures = new Map<string, number>();
  failed = 0;
  /** Every URL's outcome. */
  readonly outcomes = new Map<string, Outcome>();
  /** Set when the crawl was cancelled before it finished. */
  interrupted = false;

  /** Milliseconds since the start (until the end, once ended). */
  get wallMs(): number {
    return (this.endedAt ?? performance.now()) - this.startedAt;
  }

  /** URLs scheduled and not finished. */
  get pending(): number {
    return this.discovered - this.done;
  }

  /** URLs waiting for a worker. */
  get queued(): number {
    return this.discovered - this.done - this.active;
  }
}

/** A response whose status says the request failed. */
export class HttpError extends Error {
  override name = "HttpError";
  constructor(
    readonly status: number,
    readonly url: string,
  ) {
    super(`HTTP ${status} from ${url}`);
  }
}

/** A body bigger than `maxBytes`. */
export class TooLargeError extends Error {
  override name = "TooLargeError";
}

/** A page whose analysis took longer than `analysisTimeout`. */
export class AnalysisTimeoutError extends Error {
  override name = "AnalysisTimeoutError";
}

/** The kind under which a failure is counted. */
export function failureKind(error: unknown): string {
  if (error instanceof TimeoutError) return "timeout";
  if (error instanceof HttpError) return `http ${error.status}`;
  if (error instanceof TooLargeError) return "too large";
  if (error instanceof AnalysisTimeoutError) return "analysis timeout";
  if (isNetworkError(error)) return networkCode(error) === "" ? "network" : `network ${networkCode(error)}`;
  return error instanceof Error ? `error ${error.name}` : "error";
}

/** fetch's own failures (connection refused, reset, DNS…) are a TypeError "fetch failed". */
function isNetworkError(error: unknown): error is TypeError {
  return error instanceof TypeError && error.message === "fetch failed";
}

/** The system's or undici's code for a network error (ECONNRESET, ENOTFOUND, UND_ERR_SOCKET…), or "". */
function networkCode(error: TypeError): string {
  const code = (error.cause as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? code : "";
}

/** Worth another attempt: timeouts, network errors (but an unknown host or a bad certificate), 408, 429 and 5xx. */
function isTransient(error: unknown): boolean {
  if (error instanceof TimeoutError) return true;
  if (isNetworkError(error)) {
    const code = networkCode(error);
    return code !== "ENOTFOUND" && !/CERT|TLS/.test(code); // an unknown host or a bad certificate won't heal
  }
  return error instanceof HttpError && (error.status >= 500 || error.status === 408 || error.status === 429);
}

/** The URL as a key: absolute, fragment removed (`new URL` already lowercases the host, drops default ports). */
function normalize(url: string | URL, base?: string): string | null {
  try {
    const u = new URL(url, base);
    if (u.protocol !== "http:" && u.protocol !== "https:") return null;
    u.hash = "";
    return u.href;
  } catch {
    return null;
  }
}

type Fetched =
  | { kind: "page"; status: number; body: ArrayBuffer; contentType: string }
  | { kind: "redirect"; status: number; location: string }
  | { kind: "other"; status: number; contentType: string };

/**
 * Crawls from `options.url` until no link is left (or `maxPages` URLs were fetched), filling
 * `stats`. Failed URLs are counted, never thrown; only cancellation (and bugs) end it early.
 * @example
 * ```ts
 * const stats = await run(() => crawl({ url: "https://example.com/", concurrency: 8, maxPages: 100 }));
 * console.log(stats.pages, stats.failures);
 * ```
 */
export async function crawl(options: CrawlOptions, stats = new CrawlStats()): Promise<CrawlStats> {
  const concurrency = options.concurrency ?? 50;
  const perHost = options.perHost ?? concurrency;
  const requestTimeout = options.timeout ?? 10_000;
  const retries = options.retries ?? 2;
  const backoff = options.backoff ?? 200;
  const maxPages = options.maxPages ?? 1_000;
  const analysisTimeout = options.analysisTimeout ?? 10_000;
  const maxBytes = options.maxBytes ?? 10 * 2 ** 20;
  const follow = options.follow ?? true;
  const headers = { "user-agent": options.userAgent ?? "tsaio-crawler/0.1", accept: "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1" };
  const seeds = (typeof options.url === "string" ? [options.url] : options.url).map((u) => {
    const n = normalize(u);
    if (n === null) throw new TypeError(`crawl: not an http(s) URL: ${u}`);
    return n;
  });
  const scope = new Set(seeds.map((u) => new URL(u).host));
  const inScope = (url: string): boolean => options.allHosts === true || scope.has(new URL(url).host);
  stats.startedAt = performance.now();

  // The CPU step's pool: the caller's, or our own, shut down (in-flight jobs first) when we leave.
  await using ownPool = options.pool === undefined ? new ThreadPoolExecutor({ maxWorkers: Math.max(1, availableParallelism() - 1), name: "crawler" }) : null;
  const pool = options.pool === undefined ? ownPool : options.pool;

  // One semaphore per host: at most `perHost` requests in flight to it.
  const hosts = new Map<string, Semaphore>();
  const hostLimit = (url: string): Semaphore => {
    const host = new URL(url).host;
    let sem = hosts.get(host);
    if (sem === undefined) hosts.set(host, (sem = new Semaphore(perHost)));
    return sem;
  };

  // URLs found and not yet handed to a worker, shallowest first (then in discovery order).
  const frontier = new PriorityQueue<[depth: number, order: number, url: string]>();
  // The hand-off to the workers: bounded, so the feeder waits (put) while the workers are busy.
  const work = new Queue<{ url: string; depth: number }>(concurrency);
  const seen = new Set<string>();
  const texts = new Set<string>();
  let order = 0;
  let unfinished = 0; // scheduled and not finished: 0 means the crawl is over

  /** Schedules `url` unless it was seen before (the de-duplication) or the page budget is spent. */
  const schedule = (url: string, depth: number): void => {
    if (seen.has(url) || seen.size >= maxPages) return;
    seen.add(url);
    unfinished++;
    stats.discovered++;
    frontier.putNowait([depth, order++, url]);
  };

  /** One HTTP request, holding a permit of its host, under the per-request timeout. */
  const request = (url: string): Promise<Fetched> =>
    hostLimit(url).run(async () => {
      stats.requests++;
      stats.inFlight++;
      try {
        return await timeout(requestTimeout, async () => {
          // Read the signal here, not once per worker: a timeout cancels the task, and the task
          // gets a fresh signal once that cancellation is withdrawn.
          const signal = currentTask()!.signal;
          const res = await fetch(url, { redirect: "manual", signal, headers });
          const location = res.headers.get("location");
          if (res.status >= 300 && res.status < 400 && location !== null) {
            await res.body?.cancel();
            return { kind: "redirect", status: res.status, location: new URL(location, url).href };
          }
          if (!res.ok) {
            await res.body?.cancel();
            throw new HttpError(res.status, url);
          }
          const contentType = res.headers.get("content-type") ?? "";
          if (!/^\s*(text\/html|application\/xhtml\+xml)\b/i.test(contentType)) {
            await res.body?.cancel();
            return { kind: "other", status: res.status, contentType };
          }
          return { kind: "page", status: res.status, body: await readBody(res, maxBytes, stats), contentType };
        });
      } catch (e) {
        if (e instanceof TimeoutError) stats.timeouts++;
        throw e;
      } finally {
        stats.inFlight--;
      }
    });

  /** Fetches one URL (with retries), analyses it in the pool, schedules its links. */
  const visit = async (url: string, depth: number): Promise<void> => {
    let fetched: Fetched;
    let analysed: Analysis;
    try {
      fetched = await retry(() => request(url), {
        attempts: retries + 1,
        backoff,
        factor: 2,
        maxDelay: 10_000,
        jitter: "full",
        retryIf: isTransient,
        onRetry: () => {
          stats.retries++;
        },
      });
      if (fetched.kind !== "page") {
        if (fetched.kind === "redirect") {
          stats.redirects++;
          const target = normalize(fetched.location);
          // A start URL redirecting to another host (http → https, example.com → www.…) moves the scope along.
          if (target !== null && seeds.includes(url)) scope.add(new URL(target).host);
          if (target !== null && follow && inScope(target)) schedule(target, depth);
        } else stats.other++;
        stats.outcomes.set(url, { ...fetched, depth });
        return;
      }
      const bytes = fetched.body.byteLength;
      // The CPU step, in a worker thread, under its own time limit; the body is moved there, not copied.
      analysed = pool === null ? analyze(fetched.body, url, fetched.contentType) : await analyzeIn(pool, fetched.body, url, fetched.contentType, analysisTimeout);
      stats.pages++;
      if (texts.has(analysed.textHash)) stats.duplicates++;
      else texts.add(analysed.textHash);
      const { title, words, textHash } = analysed;
      stats.outcomes.set(url, { kind: "page", depth, status: fetched.status, bytes, title, links: analysed.links.length, words, textHash });
    } catch (e) {
      if (e instanceof CancelledError) throw e; // never swallow a cancellation
      const reason = failureKind(e);
      stats.failures.set(reason, (stats.failures.get(reason) ?? 0) + 1);
      stats.failed++;
      stats.outcomes.set(url, { kind: "failed", depth, reason, message: e instanceof Error ? e.message : String(e) });
      return;
    }
    if (follow) for (const link of analysed.links) if (inScope(link)) schedule(link, depth + 1);
  };

  const worker = async (): Promise<void> => {
    for await (const { url, depth } of work) {
      stats.active++;
      try {
        await visit(url, depth);
      } finally {
        stats.active--;
        stats.done++;
        // The last URL finished and it found nothing new: the crawl is over.
        if (--unfinished === 0) frontier.shutdown();
      }
    }
  };

  try {
    await taskGroup(async (tg) => {
      for (let i = 0; i < concurrency; i++) void tg.createTask(worker, { name: `worker-${i}` });
      for (const url of seeds) schedule(url, 0);
      // The feeder: shallowest URLs first into the bounded queue; put() waits while it is full.
      for await (const [depth, , url] of frontier) await work.put({ url, depth });
      work.shutdown(); // the workers drain what is left (nothing), then their loops end
    });
  } catch (e) {
    if (e instanceof CancelledError) stats.interrupted = true;
    throw e;
  } finally {
    stats.endedAt = performance.now();
  }
  return stats;
}

/**
 * Starts the pool's `threads` worker threads (and loads the CPU step's module in each), so that the
 * first pages do not wait for them.
 */
export async function warmUp(pool: Executor, threads: number): Promise<void> {
  await gather(Array.from({ length: threads }, () => pool.submit(analysis.fns.analyze, new ArrayBuffer(0), "http://warm.up/")));
}

/** The CPU step in `pool`: the body moved to the worker, the job stopped if it takes longer than `ms`. */
async function analyzeIn(pool: Executor, body: ArrayBuffer, url: string, contentType: string, ms: number): Promise<Analysis> {
  try {
    return await pool.submitWith({ timeout: ms, transfer: [body] }, analysis.fns.analyze, body, url, contentType);
  } catch (e) {
    // The pool's own TimeoutError (the job was stopped): not a request timeout, and not worth a retry.
    if (e instanceof TimeoutError) throw new AnalysisTimeoutError(`the analysis took more than ${ms} ms`, { cause: e });
    throw e;
  }
}

/**
 * Reads a body of at most `limit` bytes — counted once decoded, as it streams in — into one
 * ArrayBuffer (it will be moved to a worker). fetch decodes gzip, deflate and br itself, so the
 * Content-Length of a compressed body says nothing about the bytes it decodes to (1 MB of gzip can
 * be 1 GiB of zeros): only an uncompressed body of a known, allowed size is read in one go.
 */
async function readBody(res: Response, limit: number, stats: CrawlStats): Promise<ArrayBuffer> {
  const length = res.headers.get("content-length");
  if (length !== null && Number(length) > limit) {
    await res.body?.cancel();
    throw new TooLargeError(`${length} bytes (limit ${limit})`);
  }
  const encoding = (res.headers.get("content-encoding") ?? "").trim().toLowerCase();
  if (length !== null && (encoding === "" || encoding === "identity")) {
    // The usual case: the size is known and allowed, and the message framing holds the body to it:
    // read it in one go (cheaper than by chunks).
    const body = await res.arrayBuffer();
    stats.bytes += body.byteLength;
    return body;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (res.body !== null) {
    for await (const chunk of res.body) {
      size += chunk.byteLength;
      stats.bytes += chunk.byteLength;
      // Leaving the loop cancels the stream: the decoding stops and the connection is closed.
      if (size > limit) throw new TooLargeError(`more than ${limit} bytes${encoding === "" ? "" : ` once decoded (${encoding})`}`);
      chunks.push(chunk);
    }
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out.buffer;
}
