/**
 * Naming work that crosses into a worker: typed handles on a module's exports ({@link workerModule})
 * and self-contained functions sent by source. Each distinct function gets a small numeric id, sent
 * to a worker once (`OP_DEFINE`); jobs then carry only the id.
 *
 * A function sent by source is checked once per source text, on this thread, before any job: native,
 * bound and Node built-in functions are refused, and so is a source that reads what it cannot have in
 * a worker — a variable of where it was written, `this`, an arrow's `arguments`, `super`, a private
 * member — as far as a small lexer can tell without a parser (it keeps silent rather than guess; the
 * worker then explains the ReferenceError of the first run: worker-fns.ts).
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
  /** A function sent by source: its source was checked ({@link sourceProblem}; once per source text). */
  sourceChecked?: boolean;
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
    } else if (e.sourceChecked !== true) {
      // Its source is all the worker gets: what it takes from where it was written fails there.
      e.sourceChecked = true;
      const p = sourceProblem(src, name);
      if (p !== null) e.problem = p;
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

/**
 * @internal Why the source of `name` cannot work in a worker, found on this thread (once per source
 * text): it does not compile as a function (`super`, a private field), or it reads a variable, `this`
 * or `arguments` from where it was written. Null if nothing was found — not a proof that it works.
 * The message names no call: it is kept for the source text, whichever call meets it next.
 */
export function sourceProblem(src: string, name: string): Error | null {
  const found = sourceFindings(src);
  if (found === null) return null;
  const advice = `or export ${name} from a worker module and use workerModule()`;
  if (found.free.length > 0) {
    const [first] = found.free;
    const list = found.free.map((f) => `"${f}"`).join(", ");
    const one = found.free.length === 1;
    return new ReferenceError(
      `${first} is not defined in the worker: ${name}, a function sent by source, reads ${list} from where it was written, and a worker gets only the function's source. Pass ${one ? "it as an argument" : "them as arguments"}, ${advice}.`,
    );
  }
  switch (found.outer) {
    case "this":
      return new TypeError(`${name} uses \`this\`, which a function sent by source does not get in the worker (it is called with no \`this\`). Pass what it needs as arguments, ${advice}.`);
    case "arguments":
      return new TypeError(`${name} is an arrow function that uses \`arguments\` of the function it was written in, which the worker does not have. Pass them as arguments, ${advice}.`);
    case "super":
    case "#private":
      return new TypeError(
        `${name} uses ${found.outer === "super" ? "`super`" : "a private member (`#name`)"} of the class it was written in; rebuilt from its source in a worker, it has no class. Pass what it needs as arguments, ${advice}.`,
      );
    default:
      return null;
  }
}

// ------------------------------------------------------------------------------ source checks

/**
 * @internal The texts a function's source may be rebuilt from, in order: the source itself, or for
 * method shorthand (`name(x) { … }`, `async name(x) { … }`), which is no expression by itself, a
 * `function` made of it. The worker (worker-fns.ts) compiles them the same way.
 */
export function sourceAttempts(src: string): string[] {
  const attempts = [src];
  if (/^async\s+[\w$]+\s*\(/.test(src)) attempts.push(`async function ${src.replace(/^async\s+/, "")}`);
  else if (/^[\w$]+\s*\(/.test(src)) attempts.push(`function ${src}`);
  return attempts;
}

/** @internal Names a function sent by source may use in the worker besides globals (see worker-fns.ts). */
export const WORKER_SCOPE = ["__name", "currentTask"] as const;

/** Words that are never a free variable (reserved words, contextual keywords, and the names handled apart). */
const NOT_FREE = new Set(
  (
    "break case catch class const continue debugger default delete do else export extends false finally for function if import in instanceof new null " +
    "return super switch this throw true try typeof var void while with yield let static enum await implements package protected interface private " +
    "public async of get set as from target meta arguments " +
    WORKER_SCOPE.join(" ")
  ).split(" "),
);
/** After these, an identifier may be a binding (a declaration, a parameter, a pattern, a key, a method name) or is not a plain read. */
const MAYBE_BINDING_BEFORE = new Set(["var", "let", "const", "function", "class", ",", "(", "[", "{", "...", "*", ":", ";", "}", "get", "set", "static", "async", "typeof", "delete", "break", "continue"]);
/** Before `*`, these make it a generator's star. */
const GENERATOR_BEFORE = new Set(["function", "{", ",", ";", "}", "static", "async", ""]);
/** After `;`, `{` or `}`, a name followed by these may be a class field or a shorthand property (of a pattern). */
const FIELD_AFTER = new Set([",", "}", "=", ";", ":"]);
/** After these a `/` is a division, not a regular expression. */
const VALUE_END = new Set([")", "]", "++", "--"]);
/** Words whose parenthesized head may be followed by a statement starting with a regular expression. */
const STATEMENT_HEAD = new Set(["if", "while", "for", "with"]);
const REGEX_AFTER_WORD = new Set(["return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case", "do", "else", "yield", "await"]);

interface Tok {
  /** The text: a word, or a punctuator. */
  s: string;
  word: boolean;
}

/**
 * Splits JS source into words and punctuators, skipping comments, strings, template text and regular
 * expressions; null when the text is beyond this small lexer (an escape in a name, a `/` it cannot
 * classify, unbalanced brackets), so that the checks below say nothing rather than something wrong.
 */
function tokenize(src: string): Tok[] | null {
  const out: Tok[] = [];
  /** For each open `{`: whether it opened a template substitution (`${`). */
  const braces: boolean[] = [];
  /** For each open `(`: the word before it (`if`, `while`…), and the one of the `(` closed last. */
  const parens: string[] = [];
  let closedParenOf = "";
  let i = 0;
  const n = src.length;
  const isWordStart = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36 || c > 127;
  const isWord = (c: number): boolean => isWordStart(c) || (c >= 48 && c <= 57);
  /** Skips template text from `i` (just after a backtick or a closing `}` of a substitution); false if unterminated. */
  const template = (): boolean => {
    while (i < n) {
      const c = src.charCodeAt(i);
      if (c === 92) i += 2;
      else if (c === 96) {
        i++;
        out.push({ s: "`", word: false });
        return true;
      } else if (c === 36 && src.charCodeAt(i + 1) === 123) {
        i += 2;
        braces.push(true);
        out.push({ s: "${", word: false });
        return true;
      } else i++;
    }
    return false;
  };
  while (i < n) {
    const c = src.charCodeAt(i);
    if (c <= 32) i++;
    else if (c === 47 && src.charCodeAt(i + 1) === 47) {
      const e = src.indexOf("\n", i);
      i = e < 0 ? n : e;
    } else if (c === 47 && src.charCodeAt(i + 1) === 42) {
      const e = src.indexOf("*/", i + 2);
      if (e < 0) return null;
      i = e + 2;
    } else if (c === 34 || c === 39) {
      i++;
      while (i < n && src.charCodeAt(i) !== c) i += src.charCodeAt(i) === 92 ? 2 : 1;
      if (i >= n) return null;
      i++;
      out.push({ s: '""', word: false });
    } else if (c === 96) {
      i++;
      if (!template()) return null;
    } else if (isWordStart(c)) {
      const s0 = i;
      while (i < n && isWord(src.charCodeAt(i))) i++;
      if (src.charCodeAt(i) === 92) return null; // a \u escape in a name
      out.push({ s: src.slice(s0, i), word: true });
    } else if (c >= 48 && c <= 57) {
      while (i < n && (isWord(src.charCodeAt(i)) || src.charCodeAt(i) === 46)) i++;
      out.push({ s: "0", word: false });
    } else if (c === 35) {
      // A private name: never a variable.
      i++;
      while (i < n && isWord(src.charCodeAt(i))) i++;
      out.push({ s: "#", word: false });
    } else if (c === 47) {
      const prev = out.length === 0 ? null : out[out.length - 1];
      if (prev !== null && prev.s === "}") return null; // a block or an object literal before it: cannot tell
      // After `)`, a division — unless the parentheses were a statement's head: `if (x) /re/.test(s)`.
      const afterHead = prev !== null && prev.s === ")" && STATEMENT_HEAD.has(closedParenOf);
      const division = prev !== null && !afterHead && (prev.s === "0" || prev.s === '""' || prev.s === "`" || VALUE_END.has(prev.s) || (prev.word && !REGEX_AFTER_WORD.has(prev.s)));
      if (division) {
        i += src.charCodeAt(i + 1) === 61 ? 2 : 1;
        out.push({ s: "/", word: false });
      } else {
        // A regular expression: up to the unescaped `/` outside a class, then its flags.
        i++;
        let inClass = false;
        for (;;) {
          if (i >= n) return null;
          const d = src.charCodeAt(i);
          if (d === 10) return null;
          if (d === 92) i += 2;
          else {
            i++;
            if (d === 91) inClass = true;
            else if (d === 93) inClass = false;
            else if (d === 47 && !inClass) break;
          }
        }
        while (i < n && isWord(src.charCodeAt(i))) i++;
        out.push({ s: '""', word: false });
      }
    } else if (c === 92) {
      return null;
    } else {
      const three = src.slice(i, i + 3);
      const two = src.slice(i, i + 2);
      let s: string;
      if (three === "..." || three === "?.(" || three === "?.[") s = three === "..." ? "..." : "?.";
      else if (two === "=>" || two === "?." || two === "++" || two === "--") s = two;
      else s = src[i];
      i += s === "?." ? 2 : s.length;
      if (s === "?." && (three === "?.(" || three === "?.[")) {
        /* `?.(` and `?.[`: the bracket comes next */
      }
      if (s === "(") parens.push(out.length === 0 ? "" : out[out.length - 1].s);
      else if (s === ")") closedParenOf = parens.pop() ?? "";
      if (s === "{") braces.push(false);
      else if (s === "}") {
        if (braces.length === 0) return null;
        if (braces.pop() === true) {
          out.push({ s: "}", word: false });
          if (!template()) return null;
          continue;
        }
      }
      out.push({ s, word: false });
    }
  }
  return braces.length === 0 ? out : null;
}

const CONTROL = new Set(["if", "for", "while", "switch", "catch", "with", "function", "return", "typeof", "void", "delete", "await", "yield", "new", "in", "of", "case", "throw"]);

/** @internal What the source checks found: names a function sent by source reads from where it was written. */
export interface SourceFindings {
  /** Identifiers read but bound nowhere in the source and not globals: each fails in the worker. */
  free: string[];
  /**
   * What it takes from the function or class it was written in: `this` (any function), `arguments`
   * (an arrow function), `super` or a private member `#x` (a method).
   */
  outer: "this" | "arguments" | "super" | "#private" | null;
}

/**
 * @internal The free names of a function's source, found without a parser and erring on the side of
 * silence: a name counts only if every place it appears is plainly a read (never after `.`, never
 * where it could be declared — after `var`/`let`/`const`/`function`/`class`, in a parameter list or a
 * pattern, as a key or a method name — never under `typeof`), it is no global of this thread and no
 * name the worker provides. Null when the lexer gives up.
 */
export function sourceFindings(src: string): SourceFindings | null {
  const t = tokenize(src);
  if (t === null) return null;
  // Bracket matching: for each bracket, the index of its partner; for each token, its innermost open bracket.
  const partner = new Int32Array(t.length).fill(-1);
  const inside = new Int32Array(t.length).fill(-1);
  const stack: number[] = [];
  for (let k = 0; k < t.length; k++) {
    inside[k] = stack.length === 0 ? -1 : stack[stack.length - 1];
    const s = t[k].s;
    if (s === "(" || s === "[" || s === "{" || s === "${") stack.push(k);
    else if (s === ")" || s === "]" || s === "}") {
      const open = stack.pop();
      if (open === undefined) return null;
      partner[open] = k;
      partner[k] = open;
    }
  }
  if (stack.length !== 0) return null;
  const at = (k: number): string => (k >= 0 && k < t.length ? t[k].s : "");
  /** `(` at k opens a parameter list or a head followed by a body: `(…) =>`, `(…) {`. */
  const headParen = (k: number): boolean => {
    const after = at(partner[k] + 1);
    return after === "=>" || after === "{";
  };
  /** `(` at k is a call's: after a name (not a keyword), `)` or `]`, and not a head. */
  const callParen = (k: number): boolean => {
    const before = t[k - 1] as Tok | undefined;
    if (before === undefined || headParen(k)) return false;
    return (before.word && !CONTROL.has(before.s) && !NOT_FREE.has(before.s)) || before.s === ")" || before.s === "]";
  };
  const reads = new Set<string>();
  const maybeBound = new Set<string>();
  let functions = 0;
  let usesThis = false;
  let usesArguments = false;
  let usesSuper = false;
  let classes = 0;
  for (let k = 0; k < t.length; k++) {
    const tok = t[k];
    if (!tok.word) continue;
    const prev = at(k - 1);
    const next = at(k + 1);
    if (prev === "." || prev === "?.") continue;
    if (tok.s === "function" || tok.s === "class") functions++;
    if (tok.s === "class") classes++;
    if (tok.s === "super") usesSuper = true;
    else if (next === "(" && !CONTROL.has(tok.s) && at(partner[k + 1] + 1) === "{") functions++; // a method
    if (tok.s === "this") usesThis = true;
    if (tok.s === "arguments") usesArguments = true;
    if (NOT_FREE.has(tok.s)) continue;
    let bound = next === "=>" || next === ":" || (next === "=" && at(k + 2) !== "=") || (next === "(" && at(partner[k + 1] + 1) === "{");
    if (!bound && MAYBE_BINDING_BEFORE.has(prev)) {
      if (prev === "(" || prev === ",") bound = !(inside[k] >= 0 && t[inside[k]].s === "(" && callParen(inside[k]));
      else if (prev === "*") bound = GENERATOR_BEFORE.has(at(k - 2)); // `function* name`, `*name() {}`; else a product
      else if (prev === ";" || prev === "}" || prev === "{") bound = FIELD_AFTER.has(next); // a class field, a shorthand key; else a statement
      else bound = true;
    }
    (bound ? maybeBound : reads).add(tok.s);
  }
  const free: string[] = [];
  for (const name of reads) if (!maybeBound.has(name) && !(name in globalThis)) free.push(name);
  // Whose `this`? Only said when no nested function, class or method could own it.
  const first = at(0);
  const shape = first === "function" || (first === "async" && at(1) === "function") ? "function" : first === "(" || at(1) === "=>" || (first === "async" && (at(1) === "(" || at(2) === "=>")) ? "arrow" : "method";
  let outer: SourceFindings["outer"] = null;
  if (classes === 0 && t.some((x) => x.s === "#")) outer = "#private";
  else if (functions === (shape === "arrow" ? 0 : 1)) {
    if (usesSuper) outer = "super";
    else if (usesThis) outer = "this";
    else if (usesArguments && shape === "arrow") outer = "arguments";
  }
  return { free, outer };
}
