/**
 * W11 — `RedisLock` (issue 16) against the plain way of locking on Redis, side by side on the same
 * Redis: W11a, one uncontended acquire/release after another. Both sides make the same two round
 * trips per pair: the plain side `SET key owner NX PX` and a Lua compare-and-delete (EVALSHA); tsaio
 * its acquire script (which also issues the fencing token: INCR in the same script) and its release
 * script, plus what a tsaio lock does locally (a lease object, its renewal and loss timers, the
 * cancellation-point checks, the acquire as a tsaio future). Both sides outside `run()` (the default
 * loop) and, as a second pair, both inside `run()`, where every await of a foreign promise (ioredis')
 * costs the loop a macrotask hop.
 *
 * The measuring parts are exported for bench/redis.ts (the standalone run with its table and
 * results file). Keys live under a prefix of their own, deleted at the end.
 * @module
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { run } from "../../src/index.js";
import { RedisLock } from "../../src/redis/index.js";
import { now, type Sample } from "../tools/lib.js";
import type { CaseDef, Workload } from "./model.js";

export const PAIRS = 2_000;

export function redisUrl(): string {
  const u = process.env.REDIS_URL;
  return u === undefined || u === "" ? "redis://127.0.0.1:6379" : u;
}

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** Where a side runs: inside `run()` (a tsaio program) or outside (the default loop). */
export type Where = "inside run()" | "outside run()";

/** Both sides' clients, made once. */
export interface Rig {
  prefix: string;
  /** n plain SET NX PX + Lua release pairs; µs per pair. */
  plain(n: number, where: Where): Promise<Sample>;
  /** n RedisLock acquire/release pairs; µs per pair (and round trips per pair). */
  tsaio(n: number, where: Where): Promise<Sample>;
  close(): Promise<void>;
}

/** Connects both sides; null (with the reason printed) when no Redis answers. */
export async function makeRig(url = redisUrl()): Promise<Rig | null> {
  const prefix = `tsaio-bench:${process.pid}:${randomBytes(4).toString("hex")}:`;
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000, retryStrategy: () => null });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    client.disconnect();
    console.error(`W11: no Redis answers at ${url} (${(e as Error).message}): skipped`);
    return null;
  }
  const sha = (await client.script("LOAD", RELEASE)) as string;
  const lock = new RedisLock({ name: "bench", connection: url, keyPrefix: prefix, leaseMs: 10_000 });
  const key = `${prefix}plain`;
  const within = <T>(where: Where, body: () => Promise<T>): Promise<T> => (where === "inside run()" ? run(body) : body());
  return {
    prefix,
    plain(n, where) {
      return within(where, async () => {
        const t0 = now();
        for (let i = 0; i < n; i++) {
          const owner = `o${i}`;
          if ((await client.set(key, owner, "PX", 10_000, "NX")) !== "OK") throw new Error("W11 plain: not acquired");
          if ((await client.evalsha(sha, 1, key, owner)) !== 1) throw new Error("W11 plain: not released");
        }
        return { us: ((now() - t0) * 1000) / n };
      });
    },
    tsaio(n, where) {
      return within(where, async () => {
        const c0 = lock._link.commands;
        const t0 = now();
        let last = 0;
        for (let i = 0; i < n; i++) {
          const lease = await lock.acquire();
          if (lease.token <= last) throw new Error("W11 tsaio: fencing token did not increase");
          last = lease.token;
          await lease.release();
        }
        const us = ((now() - t0) * 1000) / n;
        return { us, roundTrips: (lock._link.commands - c0) / n };
      });
    },
    async close() {
      await lock.close();
      let cursor = "0";
      do {
        const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 100);
        cursor = next;
        if (keys.length > 0) await client.unlink(...keys);
      } while (cursor !== "0");
      client.disconnect();
    },
  };
}

let rig: Rig | null = null;

export const w11: Workload = {
  id: "W11",
  title: "a distributed lock on Redis (tsaio/redis)",
  description:
    "W11a: one client acquires and releases a free lock on Redis (loopback) n times in a row. The plain side is the classic " +
    "`SET key owner NX PX` plus a Lua compare-and-delete; tsaio's RedisLock makes the same two round trips and also issues " +
    "a fencing token, arms its lease's renewal and local-expiry timers, and waits as a cancellation point. Time per pair.",
  async cases(ctx): Promise<CaseDef[]> {
    rig = await makeRig();
    if (rig === null) return [];
    const r = rig;
    const n = ctx.quick ? 300 : PAIRS;
    return [
      {
        id: "W11a",
        workload: "W11",
        title: `uncontended RedisLock, ${n.toLocaleString("en")} acquire/release pairs`,
        metric: "us",
        unit: "µs/pair",
        floor: "SET NX PX + Lua release",
        sides: [
          { name: "SET NX PX + Lua release", kind: "floor", run: () => r.plain(n, "outside run()") },
          { name: "tsaio RedisLock", kind: "tsaio", run: () => r.tsaio(n, "outside run()"), note: "acquire script with INCR fencing token + release script: 2 round trips" },
          { name: "SET NX PX + Lua release, inside run()", kind: "reference", run: () => r.plain(n, "inside run()") },
          { name: "tsaio RedisLock, inside run()", kind: "variant", run: () => r.tsaio(n, "inside run()") },
        ],
        goals: [
          { text: "≤ 1.5× a plain SET NX PX + Lua release (same round trips)", kind: "within", k: 1.5, ref: "SET NX PX + Lua release" },
          { text: "inside run(): ≤ 1.5× the plain pair inside run()", kind: "within", k: 1.5, ref: "SET NX PX + Lua release, inside run()", side: "tsaio RedisLock, inside run()" },
        ],
      },
    ];
  },
  async teardown(): Promise<void> {
    await rig?.close();
    rig = null;
  },
};
