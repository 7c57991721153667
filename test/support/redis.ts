/**
 * Redis for tests: where it is, whether it answers, and a key prefix per test that is cleaned up after.
 *
 *     test("…", async (t) => {
 *       const r = await redisTest(t);   // undefined: skipped (no Redis) — under CI=true the test fails instead
 *       if (r === undefined) return;
 *       const client = r.client();      // closed after the test
 *       await client.set(r.key("a"), "1");
 *     });
 *
 * The machine's Redis is shared: tests never FLUSH and never stop it, they only touch keys under their own
 * prefix, and the cleanup deletes exactly those (SCAN MATCH prefix*).
 */
import { randomBytes } from "node:crypto";
import type { TestContext } from "node:test";
import { Redis } from "ioredis";
import type { RedisOptions } from "ioredis";

/** `REDIS_URL`, else redis://127.0.0.1:6379. */
export function redisUrl(): string {
  const url = process.env.REDIS_URL;
  return url === undefined || url === "" ? "redis://127.0.0.1:6379" : url;
}

let probe: Promise<string | undefined> | undefined;

/** undefined when Redis at `redisUrl()` answers PING; else why not (checked once per process). */
export function redisProblem(): Promise<string | undefined> {
  probe ??= (async () => {
    const url = redisUrl();
    const client = new Redis(url, { lazyConnect: true, connectTimeout: 1500, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    let cause: Error | undefined;
    client.on("error", (e: Error) => (cause ??= e));
    try {
      await client.connect();
      const pong = await client.ping();
      return pong === "PONG" ? undefined : `Redis at ${url} answered PING with ${pong}`;
    } catch (e) {
      return `no Redis answers at ${url} (${(cause ?? (e as Error)).message}); set REDIS_URL or start redis-server`;
    } finally {
      client.disconnect();
    }
  })();
  return probe;
}

let announced = false;

/**
 * Skips the test (one loud line on stderr per process, naming what is missing) when no Redis answers and
 * returns false; under `CI=true` a missing Redis fails the test instead. True when Redis is there.
 */
export async function requireRedis(t: TestContext): Promise<boolean> {
  const problem = await redisProblem();
  if (problem === undefined) return true;
  if (process.env.CI === "true") throw new Error(`Redis is required under CI=true: ${problem}`);
  if (!announced) {
    announced = true;
    process.stderr.write(`\n*** SKIPPING Redis tests: ${problem} ***\n\n`);
  }
  t.skip(problem);
  return false;
}

export interface RedisTest {
  /** The server's URL (`redisUrl()`). */
  url: string;
  /** This test's key prefix, e.g. "tsaio-test:1234:9f3c…:" — every key the test makes starts with it. */
  prefix: string;
  /** `prefix + name`. */
  key(name: string): string;
  /** A new ioredis client (to `url`, or another URL such as a proxy's), disconnected after the test. */
  client(url?: string, options?: RedisOptions): Redis;
}

/** A unique prefix per call; `after` deletes the prefix's keys and disconnects the clients made by `client()`. */
export function redisKeys(after: (fn: () => Promise<void>) => void): RedisTest {
  const url = redisUrl();
  const prefix = `tsaio-test:${process.pid}:${randomBytes(6).toString("hex")}:`;
  const clients: Redis[] = [];
  after(async () => {
    for (const c of clients) c.disconnect();
    const admin = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2000 });
    try {
      let cursor = "0";
      do {
        const [next, keys] = await admin.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
        cursor = next;
        if (keys.length > 0) await admin.unlink(...keys);
      } while (cursor !== "0");
    } finally {
      admin.disconnect();
    }
  });
  return {
    url,
    prefix,
    key: (name) => prefix + name,
    client(u = url, options = {}) {
      const c = new Redis(u, options);
      c.on("error", () => {}); // connection errors surface through the commands; a proxy cut makes them on purpose
      clients.push(c);
      return c;
    },
  };
}

/** `requireRedis(t)` then `redisKeys(t.after)`: undefined when the test was skipped. */
export async function redisTest(t: TestContext): Promise<RedisTest | undefined> {
  if (!(await requireRedis(t))) return undefined;
  return redisKeys((fn) => t.after(fn));
}
