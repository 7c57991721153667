/** Argument checks that name the function and the argument, as the API contract requires. Internal: */

export function checkFunction(value: unknown, fnName: string, argName: string): void {
  if (typeof value !== "function") {
    throw new TypeError(`${fnName}: \`${argName}\` must be a function, got ${describe(value)}`);
  }
}

/** A delay in ms: a finite number >= 0. */
export function checkDelay(value: unknown, fnName: string, argName: string): asserts value is number {
  if (typeof value !== "number") throw new TypeError(`${fnName}: \`${argName}\` must be a number of milliseconds, got ${describe(value)}`);
  if (Number.isNaN(value) || value < 0) throw new RangeError(`${fnName}: \`${argName}\` must be >= 0 milliseconds, got ${value}`);
}

/** A delay in ms or null (no limit). */
export function checkOptionalDelay(value: unknown, fnName: string, argName: string): asserts value is number | null | undefined {
  if (value === null || value === undefined) return;
  checkDelay(value, fnName, argName);
}

/** A deadline on the loop's clock: a number that is not NaN (Infinity means never). */
export function checkWhen(value: unknown, fnName: string, argName: string): asserts value is number {
  if (typeof value !== "number") throw new TypeError(`${fnName}: \`${argName}\` must be a number (ms on the loop's clock), got ${describe(value)}`);
  if (Number.isNaN(value)) throw new RangeError(`${fnName}: \`${argName}\` must not be NaN`);
}

export function checkOptions(value: unknown, fnName: string): void {
  if (value !== undefined && (value === null || typeof value !== "object")) {
    throw new TypeError(`${fnName}: \`options\` must be an object, got ${describe(value)}`);
  }
}

export function checkSignal(value: unknown, fnName: string): asserts value is AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) {
    throw new TypeError(`${fnName}: \`signal\` must be an AbortSignal, got ${describe(value)}`);
  }
}

/**
 * How a bad argument reads in an error message: `null`, `undefined`, `a function`, `an array`,
 * `the string "x"`, or the type and value (`number 5`, `boolean true`). (`undefined` used to fall
 * through to the last form and read "undefined undefined".)
 */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "function") return "a function";
  if (typeof value === "object") {
    if (typeof (value as { then?: unknown }).then === "function") return "a promise/thenable";
    return Array.isArray(value) ? "an array" : "an object";
  }
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") && typeof (value as { then?: unknown }).then === "function";
}

/** An integer count >= `min` (Infinity allowed when `allowInfinity`). */
export function checkCount(value: unknown, fnName: string, argName: string, min: number, allowInfinity = false): asserts value is number {
  if (typeof value !== "number") throw new TypeError(`${fnName}: \`${argName}\` must be an integer, got ${describe(value)}`);
  if (value === Infinity && allowInfinity) return;
  if (!Number.isInteger(value)) throw new RangeError(`${fnName}: \`${argName}\` must be an integer${allowInfinity ? " or Infinity" : ""}, got ${value}`);
  if (value < min) throw new RangeError(`${fnName}: \`${argName}\` must be >= ${min}, got ${value}`);
}

/** The `signal` of a `{ signal }` options object, checked. */
export function signalOf(options: unknown, fnName: string): AbortSignal | undefined {
  if (options === undefined) return undefined;
  checkOptions(options, fnName);
  const signal = (options as { signal?: unknown }).signal;
  checkSignal(signal, fnName);
  return signal;
}

/** Whether `v` is an integer number (Infinity and NaN are not). */
export function isInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v);
}

/**
 * A duration in ms: a number >= 0 (Infinity allowed: never), or undefined (the default), or null when
 * `allowNull` (none). TypeError if not a number, RangeError if NaN or negative.
 */
export function checkMs(value: unknown, fnName: string, argName: string, allowNull: boolean): asserts value is number | null | undefined {
  if (value === undefined || (allowNull && value === null)) return;
  if (typeof value !== "number") throw new TypeError(`${fnName}: \`${argName}\` must be a number of milliseconds${allowNull ? " or null" : ""}, got ${describe(value)}`);
  if (Number.isNaN(value) || value < 0) throw new RangeError(`${fnName}: \`${argName}\` must be >= 0 milliseconds, got ${value}`);
}

/**
 * An integer >= `min`, or undefined (the default), or null when `allowNull`: "`argName` must be an
 * integer >= min[ or null], got …" (TypeError if not a number, RangeError otherwise).
 */
export function checkIntAtLeast(value: unknown, fnName: string, argName: string, min: number, allowNull = false): asserts value is number | null | undefined {
  if (value === undefined || (allowNull && value === null)) return;
  if (isInt(value) && value >= min) return;
  const text = `${fnName}: \`${argName}\` must be an integer >= ${min}${allowNull ? " or null" : ""}, got `;
  if (typeof value !== "number") throw new TypeError(text + describe(value));
  throw new RangeError(text + String(value));
}

/** A finite number > 0 (or >= `min` when given), or undefined: "`argName` must be a number …". */
export function checkPositive(value: unknown, fnName: string, argName: string, unit: string, min = 0): asserts value is number | undefined {
  if (value === undefined) return;
  if (typeof value !== "number") throw new TypeError(`${fnName}: \`${argName}\` must be a number of ${unit}, got ${describe(value)}`);
  if (!Number.isFinite(value) || (min > 0 ? value < min : value <= 0)) {
    throw new RangeError(`${fnName}: \`${argName}\` must be a finite number ${min > 0 ? `>= ${min}` : "> 0"} ${unit}, got ${value}`);
  }
}

/**
 * Throws a TypeError naming `fnName` unless `value` is an iterable or an async iterable (what `map`,
 * `imap`, `forEach` and the stages accept). `what` names the argument in the message (map/imap/forEach
 * say `items`, the stages "the source").
 */
export function checkItems(value: unknown, fnName: string, what = "`items` must be an array, an iterable or an async iterable"): void {
  const v = value as Partial<AsyncIterable<unknown> & Iterable<unknown>> | null | undefined;
  if (v === null || v === undefined || (typeof v[Symbol.asyncIterator] !== "function" && typeof v[Symbol.iterator] !== "function")) {
    throw new TypeError(`${fnName}: ${what}, got ${describe(value)}`);
  }
}

/** A concurrency bound: an integer >= 1 or Infinity; returns it. */
export function checkConcurrency(value: unknown, fnName: string): number {
  if (typeof value !== "number") throw new TypeError(`${fnName}: \`concurrency\` must be a number (an integer >= 1 or Infinity), got ${describe(value)}`);
  if (value !== Infinity && (!Number.isInteger(value) || value < 1)) {
    throw new RangeError(`${fnName}: \`concurrency\` must be an integer >= 1 or Infinity, got ${value}`);
  }
  return value;
}
