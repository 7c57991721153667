/**
 * `retry()`: call a function again after it fails, with exponential backoff — and with tsaio's
 * cancellation rules: the sleeps between attempts are cancellation points, and a `CancelledError` is
 * never retried (cancelling the task stops the retrying at once).
 * @module
 */
import { CancelledError } from "./errors.js";
import { throwAtCall } from "./futures.js";
import { checkDelay, checkFunction, checkOptions, checkSignal, describe } from "./internal/validate.js";
import { currentTaskOrNull, sleep } from "./tasks.js";

/** What `onRetry` receives before each sleep. */
export interface RetryInfo {
  /** The error the attempt failed with. */
  error: unknown;
  /** The attempt that failed (1-based). */
  attempt: number;
  /** How long `retry` will now sleep (ms), jitter included. */
  delay: number;
}

/** Options of {@link retry}. */
export interface RetryOptions {
  /** How many attempts in total, the first included (an integer >= 1, or Infinity). Default 3. */
  attempts?: number;
  /**
   * The delay before the second attempt in ms (default 100), multiplied by `factor` for each later
   * one; or a function `(attempt, error) => ms` giving the delay after the failed `attempt` (1-based).
   */
  backoff?: number | ((attempt: number, error: unknown) => number);
  /** The growth of the delay per attempt when `backoff` is a number (>= 1). Default 2. */
  factor?: number;
  /** The cap on any delay, before jitter (ms). Default: no cap. */
  maxDelay?: number;
  /**
   * Randomises delays so that many clients do not retry in lockstep: `"full"` (or `true`) sleeps a
   * random time in [0, delay), `"equal"` in [delay/2, delay), `"none"` (or `false`, the default)
   * sleeps exactly `delay`.
   */
  jitter?: boolean | "none" | "full" | "equal";
  /**
   * Whether to retry after `error` (default: always). A `CancelledError` is never retried, whatever
   * this says.
   */
  retryIf?: (error: unknown, attempt: number) => boolean;
  /** Called before each sleep (for logging). An error it throws ends the retrying with that error. */
  onRetry?: (info: RetryInfo) => void;
  /**
   * Aborting it stops the retrying: the current sleep rejects with `CancelledError`. Inside a task
   * you need none (the task's cancellation already stops `retry`); do not pass `currentTask().signal`
   * when `fn` uses `timeout()`: each expiry aborts that signal for good (the task then gets a fresh
   * one), so `retry` would take the first timeout for an outside abort and stop.
   */
  signal?: AbortSignal;
  /** The random source for jitter, returning [0, 1) (default `Math.random`; fix it in tests). */
  random?: () => number;
}

const JITTERS = new Set<unknown>([true, false, "none", "full", "equal"]);

/**
 * Calls `fn(attempt)` until it succeeds, at most `attempts` times, sleeping between attempts with
 * exponential backoff (`backoff`, `backoff·factor`, `backoff·factor²`… capped at `maxDelay`, then
 * jittered). Returns the first success; after the last failed attempt, or as soon as `retryIf`
 * says no, throws that attempt's error. A `CancelledError` — from `fn` or from a sleep, because the
 * task was cancelled or `signal` aborted — ends the retrying at once and propagates.
 * @example
 * ```ts
 * import { retry } from "tsaio";
 * let calls = 0;
 * const flaky = async () => { if (++calls < 3) throw new Error(`try ${calls} failed`); return "ok"; };
 * console.log(await retry(flaky, { attempts: 5, backoff: 10 }), calls); // ok 3
 * ```
 */
export async function retry<T>(fn: (attempt: number) => T | PromiseLike<T>, options?: RetryOptions): Promise<Awaited<T>> {
  checkFunction(fn, "retry", "fn");
  checkOptions(options, "retry");
  const attempts = options?.attempts ?? 3;
  if (typeof attempts !== "number") throw new TypeError(`retry: \`attempts\` must be an integer, got ${describe(attempts)}`);
  if (!(attempts === Infinity || (Number.isInteger(attempts) && attempts >= 1))) throw new RangeError(`retry: \`attempts\` must be an integer >= 1 or Infinity, got ${attempts}`);
  const backoff = options?.backoff ?? 100;
  if (typeof backoff !== "function") checkDelay(backoff, "retry", "backoff");
  const factor = options?.factor ?? 2;
  if (typeof factor !== "number") throw new TypeError(`retry: \`factor\` must be a number, got ${describe(factor)}`);
  if (!(factor >= 1) || !Number.isFinite(factor)) throw new RangeError(`retry: \`factor\` must be a finite number >= 1, got ${factor}`);
  const maxDelay = options?.maxDelay ?? Infinity;
  checkDelay(maxDelay, "retry", "maxDelay");
  const jitter = options?.jitter ?? "none";
  if (!JITTERS.has(jitter)) throw new TypeError(`retry: \`jitter\` must be "none", "full", "equal" or a boolean, got ${describe(jitter)}`);
  const retryIf = options?.retryIf;
  if (retryIf !== undefined) checkFunction(retryIf, "retry", "retryIf");
  const onRetry = options?.onRetry;
  if (onRetry !== undefined) checkFunction(onRetry, "retry", "onRetry");
  const signal = options?.signal;
  checkSignal(signal, "retry");
  const random = options?.random ?? Math.random;
  checkFunction(random, "retry", "random");
  throwAtCall();

  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (error instanceof CancelledError) throw error;
      if (currentTaskOrNull()?._isOwnAbort(error) === true) throw error; // the task's signal stopped fn
      if (signal !== undefined && signal.aborted) throw error; // fn stopped because we were told to stop
      if (attempt >= attempts) throw error;
      if (retryIf !== undefined && !retryIf(error, attempt)) throw error;
      let delay = typeof backoff === "function" ? backoff(attempt, error) : backoff * factor ** (attempt - 1);
      checkDelay(delay, "retry", "backoff(attempt, error)");
      delay = Math.min(delay, maxDelay);
      if (jitter === "full" || jitter === true) delay = random() * delay;
      else if (jitter === "equal") delay = delay / 2 + (random() * delay) / 2;
      onRetry?.({ error, attempt, delay });
      await sleep(delay, undefined, signal === undefined ? undefined : { signal });
    }
  }
}
