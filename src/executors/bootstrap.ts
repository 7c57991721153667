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
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

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
