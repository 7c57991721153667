/**
 * Naming work that crosses into a worker: typed handles on a module's exports ({@link workerModule})
 * and self-contained functions sent by source. Each distinct function gets a small numeric id, sent
 * to a worker once (`OP_DEFINE`); jobs then carry only the id.
 * @module
 */
import { existsSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import { isAbsolute } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { inspect } from "node:util";
import { runningLoop } from "../context.js";
import type { ExecutorFuture } from "./future.js";
import type { FnDef } from "./protocol.js";

/**
 * A function that runs in a worker, named by module URL and export name; made by
 * {@link workerModule}. Pass it to `submit`/`map`/`toThread`/`runInExecutor` with the arguments the
 * export takes: argument and result types are the export's. Calling it directly runs it on the
 * running loop's default executor (like `toThread`).
 * @typeParam A - the export's parameter types.
 * @typeParam R - the export's result type (awaited).
 * @example
 * ```ts
 * import { workerModule } from "tsaio";
 * const jobs = workerModule<typeof import("./jobs.js")>(new URL("./jobs.js", import.meta.url));
 * const primes = jobs.fns.countPrimes; // WorkerFunction<[limit: number], number>
 * // Called directly, it runs on a worker thread of the running loop's default executor:
 * console.log(await primes(1_000_000)); // 78498
 * ```
 */
export interface WorkerFunction<A extends unknown[], R> {
  (...args: A): ExecutorFuture<R>;
  /** The module's URL (a `file:` URL for local files). */
  readonly moduleUrl: string;
  /** The export's name. */
  readonly exportName: string;
}

/**
 * The names of `M`'s exports that are functions.
 * @example
 * ```ts
 * import type { FunctionKeys } from "tsaio";
 * type Names = FunctionKeys<typeof import("./jobs.js")>; // "hash" | "countPrimes" | …
 * ```
 */
export type FunctionKeys<M> = {
  [K in keyof M]-?: M[K] extends (...args: never[]) => unknown ? K : never;
}[keyof M] &
  string;

/**
 * A {@link WorkerFunction} for each function export of module type `M` (the type of `mod.fns`).
 * @example
 * ```ts
 * import { workerModule, type WorkerFunctions } from "tsaio";
 * const jobs = workerModule<typeof import("./jobs.js")>(new URL("./jobs.js", import.meta.url));
 * const fns: WorkerFunctions<typeof import("./jobs.js")> = jobs.fns;
 * ```
 */
export type WorkerFunctions<M> = {
  readonly [K in FunctionKeys<M>]: M[K] extends (...args: infer A) => infer R ? WorkerFunction<A, Awaited<R>> : never;
};

/**
 * A typed handle on a module whose exports run in workers; made by {@link workerModule}.
 * @typeParam M - the module's type, `typeof import("./jobs.js")`.
 * @example
 * ```ts
 * import { workerModule, ThreadPoolExecutor } from "tsaio";
 * const jobs = workerModule<typeof import("./jobs.js")>(new URL("./jobs.js", import.meta.url));
 * await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
 * const digest = await pool.submit(jobs.fns.hash, "abc"); // typed: hash(data: string): string
 * const same = await pool.submit(jobs.fn("hash"), "abc");  // the same function, by name
 * console.log(digest.slice(0, 8), same === digest); // ba7816bf true
 * // pool.submit(jobs.fns.hsh, "abc") — compile error: no export "hsh"
 * ```
 */
export interface WorkerModule<M> {
  /** The module's URL. */
  readonly url: string;
  /** One {@link WorkerFunction} per function export: `mod.fns.hash`. */
  readonly fns: WorkerFunctions<M>;
  /** The {@link WorkerFunction} for export `name`: `mod.fn("hash")`. */
  fn<K extends FunctionKeys<M>>(name: K): WorkerFunctions<M>[K];
}

/** @internal One function known to the executors. */
export interface FnEntry {
  readonly id: number;
  readonly def: FnDef;
  /** For messages: `hash (file:///…/jobs.ts)` or `<anonymous function>`. */
  readonly label: string;
  /** A problem found on the main thread (module file missing, native function…), reported on the job's future. */
  problem: Error | null | undefined;
}

const REF = Symbol("tsaio.workerFunction");
const entries: FnEntry[] = [];
const byKey = new Map<string, FnEntry>();
const byFn = new WeakMap<object, FnEntry>();

function register(def: FnDef, label: string): FnEntry {
  const key = `${def.kind}\0${def.a}\0${def.b}`;
  let e = byKey.get(key);
  if (e === undefined) {
    e = { id: entries.length + 1, def, label, problem: undefined };
    entries.push(e);
    byKey.set(key, e);
  }
  return e;
}

/**
 * @internal The entry for `fn`: a WorkerFunction (its module export) or a plain function (sent by
 * source). Throws TypeError if `fn` is not a function.
 */
export function fnEntry(fn: unknown, where: string): FnEntry {
  if (typeof fn !== "function") {
    throw new TypeError(`${where}: \`fn\` must be a worker function (from workerModule()) or a self-contained function, got ${fn === null ? "null" : typeof fn}`);
  }
  const ref = (fn as { [REF]?: FnEntry })[REF];
  if (ref !== undefined) return ref;
  let e = byFn.get(fn);
  if (e !== undefined) return e;
  const src = Function.prototype.toString.call(fn);
  const name = fn.name || "<anonymous function>";
  e = register({ kind: 1, a: src, b: name }, name);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(src)) {
    e.problem = new TypeError(`${where}: ${name} is a native or bound function; its source cannot be sent to a worker. Export it from a module and use workerModule().`);
  } else if (/^class[\s{]/.test(src)) {
    e.problem = new TypeError(`${where}: ${name} is a class, not a function`);
  } else if (e.problem === undefined) {
    // A source text not checked yet: is it a function of Node's own modules (readFileSync…)? Its source would
    // reach the worker without the internals it closes over and fail there with a riddle.
    const mod = builtinModuleOf(fn);
    if (mod !== undefined) {
      e.problem = new TypeError(
        `${where}: ${name} is a function of Node's built-in module "${mod}"; its source cannot run in a worker (it uses Node's internals). Write a worker module that imports it and calls it, and use workerModule().`,
      );
    }
  }
  byFn.set(fn, e);
  return e;
}

/** Functions of Node's built-in modules loaded so far, by identity → the module's `node:` name. */
const builtinFns = new WeakMap<object, string>();
let loadListSeen = 0;
let builtinsIndexed = false;
const builtinNames = new Set(builtinModules);

/**
 * The built-in module `fn` belongs to (an export, or a function one level down: `fs.promises.readFile`,
 * `Buffer.from`), or undefined. Only modules already loaded are indexed — a program holding such a
 * function has loaded its module — and each only once, so the check costs nothing after the first.
 * (`process.moduleLoadList` is not documented; without it a fixed list of common modules is used.)
 */
function builtinModuleOf(fn: object): string | undefined {
  const list = (process as { moduleLoadList?: readonly string[] }).moduleLoadList;
  if (list !== undefined) {
    for (; loadListSeen < list.length; loadListSeen++) {
      const s = list[loadListSeen];
      if (s.startsWith("NativeModule ")) indexBuiltin(s.slice(13));
    }
  } else if (!builtinsIndexed) {
    for (const n of ["fs", "fs/promises", "path", "os", "util", "crypto", "zlib", "child_process", "url", "events", "stream", "buffer", "timers", "timers/promises", "dns", "net", "http", "https", "v8", "vm", "worker_threads", "readline", "querystring"]) indexBuiltin(n);
  }
  builtinsIndexed = true;
  return builtinFns.get(fn);
}

const requireBuiltin = createRequire(import.meta.url);

function indexBuiltin(name: string): void {
  if (!builtinNames.has(name) || name.startsWith("_")) return;
  let mod: unknown;
  try {
    mod = requireBuiltin(`node:${name}`);
  } catch {
    return;
  }
  addBuiltin(mod, `node:${name}`, 2);
}

function addBuiltin(v: unknown, mod: string, depth: number): void {
  if (typeof v === "function" && !builtinFns.has(v)) builtinFns.set(v, mod);
  if (depth === 0 || (typeof v !== "function" && (typeof v !== "object" || v === null))) return;
  let keys: string[];
  try {
    keys = Object.getOwnPropertyNames(v);
  } catch {
    return; // an exotic object (a proxy) that refuses: nothing to index there
  }
  for (const k of keys) {
    if (k === "prototype") continue;
    // Data properties only: a getter may load a module lazily or print a deprecation warning.
    const d = Object.getOwnPropertyDescriptor(v, k);
    if (d !== undefined && "value" in d) addBuiltin(d.value, mod, depth - 1);
  }
}

/** @internal A problem visible from the main thread (checked once per function): a missing module file. */
export function checkEntry(e: FnEntry): Error | null {
  if (e.problem !== undefined) return e.problem;
  e.problem = null;
  if (e.def.kind === 0 && e.def.a.startsWith("file:")) {
    const path = fileURLToPath(e.def.a);
    if (!existsSync(path) && !moduleSiblings(path).some((p) => existsSync(p))) {
      const err = new Error(`cannot find worker module ${e.def.a} (needed for export "${e.def.b}")`);
      (err as Error & { code: string }).code = "ERR_MODULE_NOT_FOUND";
      e.problem = err;
    }
  }
  return e.problem;
}

/**
 * @internal Files that may stand for `path` under a TypeScript loader or after compilation: tsx maps
 * `jobs.js` to `jobs.ts`; compiled code may name `jobs.ts` whose output is `jobs.js`.
 */
export function moduleSiblings(path: string): string[] {
  const m = /\.(js|mjs|cjs|ts|mts|cts|tsx|jsx)$/.exec(path);
  if (m === null) return [];
  const base = path.slice(0, -m[0].length);
  const alt: Record<string, string[]> = {
    js: [".ts", ".tsx"],
    jsx: [".tsx"],
    mjs: [".mts"],
    cjs: [".cts"],
    ts: [".js"],
    tsx: [".jsx", ".js"],
    mts: [".mjs"],
    cts: [".cjs"],
  };
  return alt[m[1]].map((x) => base + x);
}

function makeRef(url: string, exportName: string): WorkerFunction<unknown[], unknown> {
  const entry = register({ kind: 0, a: url, b: exportName }, `${exportName} (${url})`);
  const ref = function (this: unknown, ...args: unknown[]): ExecutorFuture<unknown> {
    return runningLoop().runInExecutor(null, ref as (...a: unknown[]) => unknown, ...args) as ExecutorFuture<unknown>;
  } as WorkerFunction<unknown[], unknown>;
  Object.defineProperties(ref, {
    name: { value: exportName, configurable: true },
    moduleUrl: { value: url, enumerable: true },
    exportName: { value: exportName, enumerable: true },
    [REF]: { value: entry },
    [inspect.custom]: { value: () => `[WorkerFunction ${exportName} from ${url}]` },
  });
  return ref;
}

class WorkerModuleImpl<M> implements WorkerModule<M> {
  readonly url: string;
  readonly fns: WorkerFunctions<M>;
  private readonly _refs = new Map<string, WorkerFunction<unknown[], unknown>>();

  constructor(url: string) {
    this.url = url;
    this.fns = new Proxy({} as WorkerFunctions<M>, {
      get: (_t, prop) => {
        // Not a thenable, not JSON-able: `await mod.fns` and inspect() must not see phantom exports.
        if (typeof prop !== "string" || prop === "then" || prop === "toJSON" || prop === "constructor") return undefined;
        return this._ref(prop);
      },
    });
  }

  fn<K extends FunctionKeys<M>>(name: K): WorkerFunctions<M>[K] {
    if (typeof name !== "string" || name === "") throw new TypeError(`workerModule.fn: \`name\` must be a non-empty string, got ${String(name)}`);
    return this._ref(name) as unknown as WorkerFunctions<M>[K];
  }

  private _ref(name: string): WorkerFunction<unknown[], unknown> {
    let r = this._refs.get(name);
    if (r === undefined) {
      r = makeRef(this.url, name);
      this._refs.set(name, r);
    }
    return r;
  }

  [inspect.custom](): string {
    return `<WorkerModule ${this.url}>`;
  }
}

/**
 * A typed handle on the module at `url`, whose function exports run in workers. JS cannot send a
 * closure to another thread, so work is named by module and export; give the module's type as the
 * type argument and every export gets its argument and result types checked: a wrong export name
 * is a compile error (and, if types are bypassed, a clear error on the job's future).
 *
 * `url` is a `URL` or an absolute URL/path string; use `new URL("./jobs.js", import.meta.url)`
 * (for a package: `import.meta.resolve("pkg/jobs")`). Write the `.js` name even for a `jobs.ts` file:
 * under tsx the worker loads `jobs.ts`, compiled code loads `jobs.js`. Nothing is loaded on the main
 * thread: the module is imported by each worker, once, on first use.
 * @example
 * ```ts
 * // main.ts, beside jobs.ts (as in the repo's examples/), which has:
 * //   export function countPrimes(limit: number): number { … }
 * import { workerModule, ThreadPoolExecutor } from "tsaio";
 * const jobs = workerModule<typeof import("./jobs.js")>(new URL("./jobs.js", import.meta.url));
 * await using pool = new ThreadPoolExecutor({ maxWorkers: 4 });
 * const n: number = await pool.submit(jobs.fns.countPrimes, 1_000_000);
 * console.log(n); // 78498
 * ```
 */
export function workerModule<M = Record<string, (...args: unknown[]) => unknown>>(url: URL | string): WorkerModule<M> {
  let href: string;
  if (url instanceof URL) href = url.href;
  else if (typeof url === "string") {
    if (isAbsolute(url)) href = pathToFileURL(url).href;
    else if (/^[a-z][a-z0-9+.-]*:/i.test(url) && !/^[a-z]:[\\/]/i.test(url)) href = new URL(url).href;
    else {
      throw new TypeError(
        `workerModule: \`url\` must be a URL or an absolute path/URL string, got ${JSON.stringify(url)}; ` +
          `use new URL(${JSON.stringify(url)}, import.meta.url)`,
      );
    }
  } else throw new TypeError(`workerModule: \`url\` must be a URL or a string, got ${url === null ? "null" : typeof url}`);
  return new WorkerModuleImpl<M>(href);
}
