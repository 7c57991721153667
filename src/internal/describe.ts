/**
 * One describer per object. Every tsaio runtime object has a `_describe(o)` method that tells its
 * state in one compact line (`<Lock locked waiters=2>`, `<SleepFuture pending when=1200 left=80ms>`).
 * `util.inspect` calls it through `[inspect.custom]`, and the task tree (`debug/tree.ts`, behind
 * `tsaio ps`/`pstree`) calls it too, so each object's format has one source of truth.
 *
 * The redacted mode is for output another process can read (`tsaio ps`/`pstree`): counts, states and
 * names only — no queue items, no argument, result or error-message values. An object that holds
 * other objects describes them with {@link show}, passing its options on, so redaction reaches every
 * level.
 *
 * Describers run only when something prints: they add no field to any object and allocate nothing
 * until called. This module sits at the bottom layer (it imports only `node:util`), so every layer
 * can use it; the debug layer builds on it, never the other way round.
 * Internal: not part of the package's public API.
 * @module
 */
import { inspect } from "node:util";

/** What a describer may show. @internal */
export interface DescribeOptions {
  /** Counts, states and names only: no contents (queue items, arguments, results, error messages). */
  readonly redact: boolean;
}

/** Everything `util.inspect` shows (a queue's first items, a future's result). @internal */
export const FULL: DescribeOptions = Object.freeze({ redact: false });
/** State only, for output read from outside the process (`tsaio ps`/`pstree`). @internal */
export const REDACTED: DescribeOptions = Object.freeze({ redact: true });

/** An object that tells its own state in one line. @internal */
export interface Describable {
  _describe(o: DescribeOptions): string;
}

/** Whether `value` has a describer. @internal */
export function isDescribable(value: unknown): value is Describable {
  return ((typeof value === "object" && value !== null) || typeof value === "function") && typeof (value as Partial<Describable>)._describe === "function";
}

/**
 * `value` as its describer tells it; anything else by `util.inspect` (depth 0, one line), or when
 * redacted by its kind only (`<Object>`, `a number`): a foreign value may be anything, a secret too.
 * @internal
 */
export function show(value: unknown, o: DescribeOptions): string {
  if (isDescribable(value)) return value._describe(o);
  if (o.redact) return kindOf(value);
  return inspect(value, { depth: 0, breakLength: Infinity });
}

/** A value's kind, without its contents: `<Map>`, `a string`, `null`. @internal */
export function kindOf(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === "object") return `<${(value as object).constructor?.name ?? "Object"}>`;
  if (typeof value === "function") return "<Function>";
  return `a ${typeof value}`;
}

/** An error, asyncio-style: `TypeError("bad input")`; redacted, its class only: `TypeError`. @internal */
export function showError(e: unknown, o: DescribeOptions): string {
  if (e instanceof Error) return o.redact ? e.name : `${e.name}(${JSON.stringify(e.message)})`;
  return show(e, o);
}

/** `" waiters=N"` when N > 0, else `""`: the house style for a wait list. @internal */
export function countText(label: string, n: number): string {
  return n > 0 ? ` ${label}=${n}` : "";
}

/** A time on the loop's clock (ms), to the microsecond: `when=1234.567`. @internal */
export function msText(ms: number): string {
  return String(Math.round(ms * 1000) / 1000);
}
