/**
 * What the caller ({@link BullMQExecutor}) and the worker (`runWorker`, `tsaio worker`) agree on: the
 * job's data, the Redis keys and channel beside BullMQ's own, the outcome message, and how values
 * and errors travel (V8's serializer, as structured clone does between threads, so a `Map`, a `Date`,
 * a `bigint` or a typed array arrive as they left).
 *
 * ## Keys (next to BullMQ's `<prefix>:<queue>:*`)
 * - `<prefix>:<queue>:tsaio:r:<callerId>` — a list per executor: workers RPUSH each job's final
 *   outcome there, the executor pops them in batches (BLMPOP). Nothing is dropped under a burst, unlike
 *   the capped events stream; the key expires a while after its last push if its caller is gone.
 * - `<prefix>:<queue>:tsaio:cancel` — a pub/sub channel: `<jobId>\n<message>` asks whichever worker
 *   holds the job to cancel it.
 * Internal: not part of the package's public API.
 * @module
 */
import { hostname } from "node:os";
import { deserialize, serialize } from "node:v8";
import { Redis, type RedisOptions } from "ioredis";
import { decodeError, encodeError } from "../executors/protocol.js";
import { describe } from "../internal/validate.js";

/** @internal The data of a tsaio job in BullMQ. */
export interface JobData {
  /** Wire version. */
  v: 1;
  /** The module's registered name (never a file URL). */
  m: string;
  /** The export's name. */
  f: string;
  /** The arguments, V8-serialized, base64. */
  a: string;
  /** The caller's id: where the outcome goes. */
  r: string;
  /** Per-job timeout in ms from the job's start, or null. */
  t: number | null;
  /** 1: a map() chunk (the function runs over each item of the first argument). */
  c: 0 | 1;
}

/** @internal Outcome kinds. */
export const K_OK = 0;
export const K_ERR = 1;
export const K_CANCELLED = 2;

/** @internal An outcome message, JSON in the caller's result list. */
export interface Outcome {
  /** The BullMQ job id. */
  id: string;
  k: 0 | 1 | 2;
  /** Runs it took (the job's `attemptsStarted`). */
  n: number;
  /** The worker that ran it: `host:pid/name`. */
  w: string;
  /** The value or the error, V8-serialized, base64. */
  p: string;
}

/** @internal The default Redis: `REDIS_URL`, else the local one. */
export function defaultRedisUrl(): string {
  const u = process.env.REDIS_URL;
  return u === undefined || u === "" ? "redis://127.0.0.1:6379" : u;
}

/** @internal */
export function resultKey(prefix: string, queue: string, callerId: string): string {
  return `${prefix}:${queue}:tsaio:r:${callerId}`;
}

/** @internal */
export function cancelChannel(prefix: string, queue: string): string {
  return `${prefix}:${queue}:tsaio:cancel`;
}

/** @internal A value as it crosses Redis. */
export function encodeValue(v: unknown): string {
  return serialize(v).toString("base64");
}

/** @internal */
export function decodeValue(s: string): unknown {
  return deserialize(Buffer.from(s, "base64"));
}

/** @internal An error as it crosses Redis: name, message, stack, cause and plain properties kept. */
export function encodeErrorValue(e: unknown): string {
  return encodeValue(encodeError(e));
}

/** @internal */
export function decodeErrorValue(s: string): unknown {
  return decodeError(decodeValue(s));
}

/** @internal This process, for "where did it run": `host:pid`. */
export function processLabel(): string {
  return `${hostname()}:${process.pid}`;
}

/** A Redis connection: a `redis://` URL or ioredis options. */
export type RedisConnection = string | RedisOptions;

/** @internal Checks a connection option. */
export function checkConnection(c: unknown, where: string): void {
  if (c === undefined || typeof c === "string") return;
  if (c === null || typeof c !== "object" || Array.isArray(c)) throw new TypeError(`${where}: \`connection\` must be a redis:// URL or ioredis options, got ${describe(c)}`);
}

/** @internal A new ioredis client; `extra` wins over the user's options (BullMQ needs some of them). */
export function makeClient(connection: RedisConnection | undefined, extra: RedisOptions): Redis {
  const c = connection ?? defaultRedisUrl();
  const client = typeof c === "string" ? new Redis(c, { ...extra }) : new Redis({ ...c, ...extra });
  return client;
}

/** @internal Where a client points, for messages (no password). */
export function whereText(connection: RedisConnection | undefined): string {
  const c = connection ?? defaultRedisUrl();
  if (typeof c === "string") {
    try {
      const u = new URL(c);
      u.password = "";
      u.username = "";
      return u.href.replace(/\/$/, "");
    } catch {
      return "Redis";
    }
  }
  return `redis://${c.host ?? "127.0.0.1"}:${c.port ?? 6379}`;
}

/** @internal Checks a queue name: BullMQ keys are `<prefix>:<queue>:…`, so no colon. */
export function checkQueueName(q: unknown, where: string): asserts q is string {
  if (typeof q !== "string" || q === "") throw new TypeError(`${where}: \`queue\` must be a non-empty string, got ${describe(q)}`);
  if (q.includes(":")) throw new RangeError(`${where}: \`queue\` must not contain ':' (it is part of Redis keys), got ${JSON.stringify(q)}`);
}

/** @internal Checks a module name as jobs carry it. */
export function checkModuleName(n: unknown, where: string): asserts n is string {
  if (typeof n !== "string" || n === "" || /[\s\n]/.test(n)) throw new TypeError(`${where}: a module name must be a non-empty string without spaces, got ${describe(n)}`);
}
