/**
 * The worker side's functions: loading a module export or rebuilding a function sent by source (in
 * a worker, on first use), running a `map()` chunk, and explaining the errors a function sent by
 * source typically meets.
 * Internal: not part of the package's public API.
 * @module
 */
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { CancelledError } from "../errors.js";
import { currentTask } from "../tasks.js";
import { importJobModule, leaveJobImport } from "./bootstrap.js";
import { moduleSiblings, sourceAttempts } from "./functions.js";
import { encodeError, type FnDef } from "./protocol.js";

/** @internal */
export type AnyFn = (...args: unknown[]) => unknown;

/** @internal A function as a worker knows it: its definition, then the function or why it failed to load. */
export interface FnRecord {
  def: FnDef;
  fn: AnyFn | null;
  error: unknown;
  loading: Promise<void> | null;
}

/** @internal Where tsx's register() API is, and whether this worker registered it already. */
export interface TsxState {
  tsxApi: string | null;
  tsxRegistered?: boolean;
}

let tsx: TsxState = { tsxApi: null };

/** @internal Tells the loader how this worker can load TypeScript (see bootstrap.ts). */
export function setTsx(state: TsxState): void {
  tsx = state;
}

/** Functions rebuilt from source, with their definitions: map() chunks explain their errors too. */
const bySource = new WeakMap<AnyFn, FnDef>();

/**
 * A function sent by source that reads a variable of where it was written fails with "x is not
 * defined": say which function, that it was sent by source, and what to do. Only when `x` appears in
 * its source (an error from deeper code is not its fault) and the message has not been explained yet.
 */
export function explain(e: unknown, rec: FnRecord): unknown {
  return rec.def.kind === 1 ? explainDef(e, rec.def) : e;
}

function explainDef(e: unknown, def: FnDef): unknown {
  if (!(e instanceof ReferenceError) || e.message.includes("sent by source")) return e;
  const m = /^([\p{L}\p{Nl}$_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}$\u200c\u200d]*) is not defined$/u.exec(e.message);
  if (m === null || !new RegExp(`(^|[^\\w$.])${m[1].replace(/\$/g, "\\$")}(?![\\w$])`).test(def.a)) return e;
  const id = m[1];
  e.message += ` (in ${def.b}, a function sent by source: it reads "${id}" from where it was written, and a worker gets only the function's source; pass ${id} as an argument, or export ${def.b} from a worker module and use workerModule())`;
  if (typeof e.stack === "string") e.stack = `${e.name}: ${e.message}\n${e.stack.split("\n").slice(1).join("\n")}`;
  return e;
}

/** Runs `fn` over a chunk of map() items: `[values, error?]`, values up to the first failing item. */
export function runChunk(fn: AnyFn, items: unknown[]): [unknown[], unknown] | Promise<[unknown[], unknown]> {
  const out: unknown[] = [];
  for (let i = 0; i < items.length; i++) {
    let r: unknown;
    try {
      r = fn(items[i]);
    } catch (e) {
      return [out, encodeError(explainChunk(e, fn))];
    }
    if (r !== null && typeof r === "object" && typeof (r as PromiseLike<unknown>).then === "function") return chunkAsync(fn, items, out, i, r as PromiseLike<unknown>);
    out.push(r);
  }
  return [out, undefined];
}

function explainChunk(e: unknown, fn: AnyFn): unknown {
  const def = bySource.get(fn);
  return def === undefined ? e : explainDef(e, def);
}

async function chunkAsync(fn: AnyFn, items: unknown[], out: unknown[], i: number, first: PromiseLike<unknown>): Promise<[unknown[], unknown]> {
  try {
    out.push(await first);
    for (let k = i + 1; k < items.length; k++) out.push(await fn(items[k]));
  } catch (e) {
    if (e instanceof CancelledError) throw e;
    return [out, encodeError(explainChunk(e, fn))];
  }
  return [out, undefined];
}

// ------------------------------------------------------------------------------ loading functions

/** Modules this worker imported, by URL: a new export of one of them loads without an await. */
const modules = new Map<string, Record<string, unknown>>();

/**
 * Loads `rec` now if that takes no import — a function sent by source, or an export of a module
 * already imported — so that its job starts in the same turn as it arrived; true if `rec` is loaded
 * (or failed to), false if it needs {@link load}.
 */
export function loadNow(rec: FnRecord): boolean {
  leaveJobImport(); // a job starts: what runs from here is not its module's top-level code
  if (rec.fn !== null || rec.error !== undefined) return true;
  const { kind, a, b } = rec.def;
  if (kind === 0 && !modules.has(a)) return false;
  try {
    rec.fn = kind === 0 ? exportOf(modules.get(a) as Record<string, unknown>, a, b) : compile(a, b);
  } catch (e) {
    rec.error = e;
  }
  return true;
}

export function load(rec: FnRecord): Promise<void> {
  if (rec.loading === null) {
    rec.loading = (async () => {
      try {
        rec.fn = rec.def.kind === 0 ? await loadExport(rec.def.a, rec.def.b) : compile(rec.def.a, rec.def.b);
      } catch (e) {
        rec.error = e;
      }
    })();
  }
  return rec.loading;
}

async function loadExport(url: string, name: string): Promise<AnyFn> {
  // Its top-level code must not start executors (a main module imported by a worker): see bootstrap.ts.
  const mod = await importJobModule(url, name, () => importModule(url));
  modules.set(url, mod);
  return exportOf(mod, url, name);
}

function exportOf(mod: Record<string, unknown>, url: string, name: string): AnyFn {
  if (!(name in mod)) {
    const names = Object.keys(mod);
    throw new TypeError(`worker module ${url} has no export named "${name}" (its exports: ${names.length === 0 ? "none" : names.join(", ")})`);
  }
  const f = mod[name];
  if (typeof f !== "function") throw new TypeError(`export "${name}" of worker module ${url} is not a function (it is ${f === null ? "null" : typeof f})`);
  return f as AnyFn;
}

function codeOf(e: unknown): unknown {
  return (e as { code?: unknown } | null)?.code;
}

async function importModule(url: string): Promise<Record<string, unknown>> {
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (e) {
    const code = codeOf(e);
    const path = url.startsWith("file:") ? fileURLToPath(url) : null;
    const siblings = path === null ? [] : moduleSiblings(path).filter((p) => existsSync(p));
    const tsProblem = code === "ERR_UNKNOWN_FILE_EXTENSION" || (code === "ERR_MODULE_NOT_FOUND" && siblings.some((p) => /\.[cm]?tsx?$/.test(p)));
    try {
      if (tsProblem && tsx.tsxApi !== null && tsx.tsxRegistered !== true) {
        // This worker cannot load TypeScript yet (tsx registers itself in threads only on recent Node).
        const api = (await import(tsx.tsxApi)) as { register: () => unknown };
        api.register();
        tsx.tsxRegistered = true;
        // A failed load is cached per URL: retry under a fresh one.
        return (await import(code === "ERR_UNKNOWN_FILE_EXTENSION" ? `${url}${url.includes("?") ? "&" : "?"}tsaio-tsx` : url)) as Record<string, unknown>;
      }
      if (code === "ERR_MODULE_NOT_FOUND" && path !== null && !existsSync(path) && siblings.length > 0) {
        return (await import(pathToFileURL(siblings[0]).href)) as Record<string, unknown>;
      }
    } catch (e2) {
      throw wrapLoadError(url, e2);
    }
    throw wrapLoadError(url, e);
  }
}

function wrapLoadError(url: string, e: unknown): Error {
  const msg = e instanceof Error ? e.message : String(e);
  const err = new Error(`cannot load worker module ${url}: ${msg}`, { cause: e });
  const code = codeOf(e);
  if (typeof code === "string") (err as Error & { code: string }).code = code;
  return err;
}

/** esbuild (tsx) wraps named inner functions in `__name(fn, "name")`; the worker has no such helper. */
const nameShim = <T>(f: T): T => f;

function compile(src: string, name: string): AnyFn {
  let last: unknown;
  // Method shorthand (`name(x) { … }`) is not an expression by itself: a `function` made of it is.
  for (const s of sourceAttempts(src)) {
    try {
      const f = new Function("__name", "currentTask", `return (${s}\n);`)(nameShim, currentTask) as unknown;
      if (typeof f === "function") {
        bySource.set(f as AnyFn, { kind: 1, a: src, b: name });
        return f as AnyFn;
      }
    } catch (e) {
      last = e;
    }
  }
  throw new SyntaxError(
    `cannot rebuild ${name} in the worker from its source (${last instanceof Error ? last.message : "not a function"}); only self-contained functions can be sent by source`,
  );
}

