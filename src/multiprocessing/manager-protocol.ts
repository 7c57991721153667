/**
 * What a Manager's proxies and its server agree on: reply codes, object kinds, and the checks of
 * keys and Value typecodes (run by the proxy, so that bad input fails at the call, and again by the
 * server, which trusts no client). See manager-server.ts for the messages.
 * Internal: not part of the package's public API.
 * @module
 */
import { describe } from "../internal/validate.js";

export const OK = 0;
export const ERR = 1;
export const GAVE_UP = 2;

/** The kinds of shared objects a manager holds. */
export type ObjKind = "dict" | "list" | "Namespace" | "Value" | "Lock" | "RLock";

/** The proxy class of each kind (for messages). */
export const KIND_CLASS: Record<ObjKind, string> = {
  dict: "DictProxy",
  list: "ListProxy",
  Namespace: "NamespaceProxy",
  Value: "ValueProxy",
  Lock: "LockProxy",
  RLock: "RLockProxy",
};

/**
 * A dict key: a primitive, compared by value in every process (objects arrive as copies, never equal).
 * @example
 * ```ts
 * import type { DictKey } from "tsaio/multiprocessing";
 * const keys: DictKey[] = ["name", 7, 10n, true, null];
 * console.log(keys.length); // 5
 * ```
 */
export type DictKey = string | number | bigint | boolean | null | undefined;

/** Checks a dict key; returns it. */
export function checkKey(k: unknown, what: string): DictKey {
  const t = typeof k;
  if (k === null || k === undefined || t === "string" || t === "number" || t === "bigint" || t === "boolean") return k as DictKey;
  throw new TypeError(`${what}: \`key\` must be a string, number, bigint, boolean, null or undefined (a copy of an object would never equal another copy), got ${describe(k)}`);
}

/** Integer typecodes (Python's `array` module) and their ranges. */
const INT_RANGES: Record<string, [number, number]> = {
  b: [-128, 127],
  B: [0, 255],
  h: [-32768, 32767],
  H: [0, 65535],
  i: [-2147483648, 2147483647],
  I: [0, 4294967295],
  l: [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  L: [0, Number.MAX_SAFE_INTEGER],
  q: [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  Q: [0, Number.MAX_SAFE_INTEGER],
};

/**
 * Typecodes a Value takes: Python's `array` codes — `b`/`B`, `h`/`H`, `i`/`I`, `l`/`L`, `q`/`Q`
 * (signed/unsigned integers of 8 to 64 bits, checked against their range; 64-bit ones to
 * `Number.MAX_SAFE_INTEGER`), `f`/`d` (numbers), `u` (one character).
 * @example
 * ```ts
 * import type { Typecode } from "tsaio/multiprocessing";
 * const code: Typecode = "d";
 * console.log(code); // d
 * ```
 */
export type Typecode = "b" | "B" | "h" | "H" | "i" | "I" | "l" | "L" | "q" | "Q" | "f" | "d" | "u";

/** Checks a Value's typecode and a value for it. */
export function checkTypecodeValue(typecode: unknown, v: unknown, what: string): void {
  if (typeof typecode !== "string") throw new TypeError(`${what}: \`typecode\` must be a string (Python's: "i", "d", "u"…), got ${describe(typecode)}`);
  const range = INT_RANGES[typecode] as [number, number] | undefined;
  if (range !== undefined) {
    if (typeof v !== "number" || !Number.isInteger(v)) throw new TypeError(`${what}: \`value\` must be an integer for typecode "${typecode}", got ${describe(v)}`);
    if (v < range[0] || v > range[1]) throw new RangeError(`${what}: \`value\` ${v} is out of range for typecode "${typecode}" [${range[0]}, ${range[1]}]`);
  } else if (typecode === "f" || typecode === "d") {
    if (typeof v !== "number") throw new TypeError(`${what}: \`value\` must be a number for typecode "${typecode}", got ${describe(v)}`);
  } else if (typecode === "u") {
    if (typeof v !== "string" || [...v].length !== 1) throw new TypeError(`${what}: \`value\` must be a one-character string for typecode "u", got ${describe(v)}`);
  } else {
    throw new RangeError(`${what}: \`typecode\` must be one of b, B, h, H, i, I, l, L, q, Q, f, d, u, got ${JSON.stringify(typecode)}`);
  }
}

/**
 * Sends `conn`'s batched frames at the end of this turn's microtasks rather than on the next
 * `setImmediate` (the connection's own batching): a proxy call is a request waiting for its reply,
 * and that hop measured ~0.4 ms per message on a loaded 2-core machine, half of a round trip. The
 * requests made in one synchronous run (and its microtasks) still go out together.
 */
export function flushSoon(conn: { _link: unknown }): void {
  const link = conn._link as { flush?: () => void; _tsaioFlushQueued?: boolean } | null;
  if (link === null || typeof link.flush !== "function" || link._tsaioFlushQueued === true) return;
  link._tsaioFlushQueued = true;
  queueMicrotask(() => {
    link._tsaioFlushQueued = false;
    (link.flush as () => void)();
  });
}
