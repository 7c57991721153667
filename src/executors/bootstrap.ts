/**
 * Starting a worker so that it can load TypeScript when its parent can.
 *
 * A worker (thread or process) starts from {@link BOOTSTRAP}, a few lines of plain JS evaluated with
 * `eval: true` / `node -e`, so it needs no file and no loader. It imports the worker entry
 * (`worker.js` next to this file in `dist/`, `worker.ts` when tsaio itself runs from source).
 *
 * TypeScript: workers inherit `execArgv`, so `--import tsx` reaches them. But tsx only registers its
 * hooks inside worker *threads* on recent Node versions (22.22/24.11 and later); on Node 20 a thread
 * started under tsx still cannot load `.ts`. So when the parent runs under tsx, the worker gets the
 * URL of tsx's `register()` API, and whenever an import fails because a `.ts` file cannot be loaded
 * (unknown extension, or `jobs.js` not found where `jobs.ts` exists), it registers tsx in the worker
 * and retries. Where tsx already works, nothing extra happens.
 * Internal: not part of the package's public API.
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { isMainThread } from "node:worker_threads";

const HERE = import.meta.url;
const FROM_SOURCE = /\.[cm]?tsx?$/.test(new URL(HERE).pathname);

/** URL of the worker entry module. */
export const WORKER_ENTRY = new URL(FROM_SOURCE ? "./worker.ts" : "./worker.js", HERE).href;

/** The global under which the bootstrap hands the init record to the entry module. */
export const INIT_KEY = "__tsaioExecutorInit";

/** The worker bootstrap: plain CommonJS, evaluated by the worker (thread: `eval: true`; process: `-e`). */
export const BOOTSTRAP = `"use strict";
const wt = require("node:worker_threads");
const isTsProblem = (e) => e != null && (e.code === "ERR_UNKNOWN_FILE_EXTENSION" || e.code === "ERR_MODULE_NOT_FOUND");
async function start(init) {
  globalThis.${INIT_KEY} = init;
  try {
    await import(init.entry);
  } catch (e) {
    if (init.tsxApi == null || !isTsProblem(e)) throw e;
    (await import(init.tsxApi)).register();
    globalThis.${INIT_KEY}.tsxRegistered = true;
    await import(init.entry + "?tsaio-tsx");
  }
}
if (wt.isMainThread) {
  // IPC messages that arrive while the entry loads would be dropped (no listener yet): buffer them.
  const pending = [];
  const buffer = (m) => pending.push(m);
  process.once("message", (init) => {
    init.pending = pending;
    init.unbuffer = () => process.off("message", buffer);
    process.on("message", buffer);
    start(init).catch((e) => {
      const text = String((e && e.stack) || e);
      process.stderr.write("tsaio: the process worker could not start: " + text + "\\n");
      process.exit(70);
    });
  });
} else {
  start(wt.workerData).catch((e) => setImmediate(() => { throw e; }));
}
`;

let tsxApi: string | null | undefined;

/** URL of tsx's ESM `register()` API when this process runs under tsx (or tsaio runs from source), else null. */
export function tsxApiUrl(): string | null {
  if (tsxApi !== undefined) return tsxApi;
  tsxApi = null;
  const args = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)].filter((a) => a !== "");
  const candidates: string[] = [];
  for (const raw of args) {
    const a = raw.replace(/^--(import|loader|experimental-loader|require)=/, "");
    if (!/(^|[\\/@])tsx([\\/]|$)/.test(a) && a !== "tsx" && !a.startsWith("tsx/")) continue;
    const m = /^(.*[\\/]node_modules[\\/]tsx)[\\/]/.exec(a.startsWith("file:") ? new URL(a).pathname : a);
    if (m !== null) candidates.push(m[1]);
    else candidates.push(...resolveTsxDir(join(process.cwd(), "noop.js")));
  }
  if (candidates.length === 0 && FROM_SOURCE) candidates.push(...resolveTsxDir(HERE));
  for (const dir of candidates) {
    const api = join(dir, "dist", "esm", "api", "index.mjs");
    if (existsSync(api)) {
      tsxApi = pathToFileURL(api).href;
      break;
    }
  }
  return tsxApi;
}

function resolveTsxDir(from: string): string[] {
  try {
    return [dirname(createRequire(from).resolve("tsx/package.json"))];
  } catch {
    return [];
  }
}

// ------------------------------------------------------------------------------ importing job modules

/**
 * @internal What a worker is doing while it imports a job module (the module of a {@link workerModule}
 * function or of an initializer): the module's URL, the export wanted, and the first attempt made
 * meanwhile to start an executor (see {@link checkNotImportingJob}).
 */
export interface JobImport {
  readonly url: string;
  readonly exportName: string;
  error: Error | null;
}

interface JobImportState {
  /** The imports in progress (the window of a module's top-level code, top-level awaits included). */
  readonly active: JobImport[];
  /** Code started by such an import (`main()` left running, a timer) finds its import here later. */
  readonly als: AsyncLocalStorage<JobImport>;
  /** An import left something running (a timer, a socket…): its code may come back, keep `als` on. */
  lingering: boolean;
}

/**
 * Whether an AsyncLocalStorage costs nothing while enabled: Node 24's AsyncContextFrame. On Node
 * 20/22 each enabled one adds work to every promise (awaits measured 1.35× slower with a second
 * one on Node 20), so there `als` is disabled after an import that left nothing running.
 */
const FREE_CONTEXT = Number(process.versions.node.split(".")[0]) >= 24 && !process.execArgv.includes("--no-async-context-frame");

/** How many active resources (timers, handles, requests) of each kind this thread has. */
function resourceCounts(): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) m.set(r, (m.get(r) ?? 0) + 1);
  return m;
}

/**
 * On the global object under a registered symbol: a job module may load its own copy of tsaio (the
 * package's `dist/` where the worker runs tsaio's source, or the reverse), and every copy must see
 * the same state.
 */
const STATE_KEY = Symbol.for("tsaio.executors.jobImport");

function importState(create: boolean): JobImportState | undefined {
  const g = globalThis as { [STATE_KEY]?: JobImportState };
  let st = g[STATE_KEY];
  if (st === undefined && create) st = g[STATE_KEY] = { active: [], als: new AsyncLocalStorage<JobImport>(), lingering: false };
  return st;
}

/**
 * @internal Imports a job module (`load()` does) in a worker, so that the module's top-level code —
 * and the code it leaves running — is known to run on behalf of that import. If an executor was
 * started meanwhile, the import fails with that error, even if the module caught it.
 */
export async function importJobModule<T>(url: string, exportName: string, load: () => Promise<T>): Promise<T> {
  const st = importState(true) as JobImportState;
  const rec: JobImport = { url, exportName, error: null };
  st.active.push(rec);
  const before = FREE_CONTEXT ? null : resourceCounts();
  let mod: T;
  try {
    mod = await st.als.run(rec, load);
  } catch (e) {
    throw rec.error ?? e;
  } finally {
    st.active.splice(st.active.indexOf(rec), 1);
    if (before !== null) {
      for (const [kind, n] of resourceCounts()) if (n > (before.get(kind) ?? 0)) st.lingering = true;
      if (!st.lingering && st.active.length === 0) st.als.disable(); // nothing of the module's can run later
    }
  }
  if (rec.error !== null) throw rec.error;
  return mod;
}

/**
 * @internal Called when code in a worker is about to start a job and the work begins: code that
 * runs from here on is the job's, not its module's (a job may start executors of its own).
 */
export function leaveJobImport(): void {
  const st = importState(false);
  if (st !== undefined && st.als.getStore() !== undefined) st.als.enterWith(undefined as unknown as JobImport);
}

/**
 * @internal Throws if this thread is a worker importing a job module (or runs code that import left
 * running): that module is starting executors of its own, as the main module does — every worker
 * would start workers in turn, without end. Python refuses the same ("An attempt has been made to
 * start a new process before the current process has finished its bootstrapping phase"). The first
 * such error is kept on the import, which fails with it. `what`: the class and call, for the message;
 * `isJob`: whether the code running now is a job (its code may start executors).
 */
export function checkNotImportingJob(what: string, isJob: () => boolean): void {
  const st = importState(false);
  if (st === undefined) return; // this thread never imported a job module: the main thread, mostly
  let rec: JobImport | undefined = st.active[st.active.length - 1];
  let during = true;
  if (rec === undefined) {
    rec = st.als.getStore();
    if (rec === undefined || isJob()) return;
    during = false;
  }
  const worker = isMainThread ? "a worker process" : "a worker thread";
  const err = new Error(
    `${what}: an attempt was made to start an executor in ${worker} ${during ? "while it was importing" : "from code started by its import of"} the job module ${rec.url} ` +
      `(for its export "${rec.exportName}"). That module starts executors when it is imported, as a program's main module does, ` +
      `so every worker would start workers of its own, without end. Move the jobs into a module of their own (say jobs.ts, given to ` +
      `workerModule()) and import that from the main module; or run the main code only in the main process: ` +
      `\`if (isMainThread && process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) { … }\` ` +
      `(isMainThread from "node:worker_threads", pathToFileURL from "node:url"; on Node 24, \`if (import.meta.main)\`).`,
  );
  (err as Error & { code: string }).code = "ERR_TSAIO_WORKER_IMPORTING_JOB";
  rec.error ??= err;
  throw err;
}
