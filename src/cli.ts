#!/usr/bin/env node
/**
 * The `tsaio` command: `tsaio run <file> [-- args…]`, `tsaio ps [pid]`, `tsaio pstree <pid>`;
 * `tsaio --help` describes every command and option (the {@link HELP} text below).
 *
 * Exit codes: 0 success, 1 the program failed (or the process could not be asked), 2 bad usage or a
 * file that cannot be run, 130 interrupted.
 * @module
 */
import { existsSync, readFileSync, unlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { connect } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { checkPrivateDir, enableIntrospection, listSockets, socketPathsFor } from "./debug/introspect.js";
import { LongTimeout } from "./internal/timers.js";
import { run } from "./runners.js";

const USAGE = `usage:
  tsaio run [--debug] [--virtual] [--introspect] <file.ts|file.js> [-- args…]
  tsaio ps [<pid>] [--contents]
  tsaio pstree <pid> [--contents]
  tsaio worker <module…> --queue <name> [options]
  tsaio --help | --version`;

/** What `tsaio --help` prints. */
const HELP = `tsaio: run tsaio programs, and look inside running ones.

${USAGE}

Commands:
  run <file>       Runs the default export of <file> (export default async function main() { … }) as
                   the main task of tsaio's run(): Ctrl-C cancels it (exit 130), leftover tasks are
                   cancelled and awaited, and a value it returns is printed. A .ts file runs through
                   tsx when it is installed (npm i -D tsx), else through Node's own type stripping
                   (Node >= 22.18); a .js/.mjs file runs as is.
  ps [<pid>]       With a pid: one line per pending task of that process — its loop, name, state
                   (pending or cancelling) and what it waits on. Without: lists your processes that
                   have introspection on (and removes the sockets of processes that are gone).
  pstree <pid>     The task tree of that process: who awaits whom, like python -m asyncio pstree.
  worker <module…> Runs a BullMQ worker for a BullMQExecutor's queue (tsaio/bullmq; needs bullmq and
                   ioredis): only the exports of the named modules run. \`tsaio worker --help\` for more.

Options of run (before the file or after it, but before --):
  --debug          debug mode (like TSAIO_DEBUG=1): reports slow steps, errors nobody retrieved,
                   forgotten awaits and cancellations stuck on a foreign await, on stderr
  --virtual        runs on the virtual clock: when nothing is ready, time jumps to the next timer
  --introspect     lets \`tsaio ps\`/\`tsaio pstree\` read this process's tasks (like TSAIO_INTROSPECT=1);
                   it listens on a socket only your user can reach
  -- args…         everything after -- is the program's: process.argv.slice(2) in the program

Options of ps and pstree:
  --contents       also show contents (a queue's first items, a finished future's result); by
                   default only sizes and states are shown

Other:
  -h, --help       prints this help
  -v, --version    prints tsaio's version

Exit status: 0 success; 1 the program failed, or the process could not be asked; 2 bad usage, or a
file that cannot be run; 130 interrupted (Ctrl-C).`;

function fail(message: string, code: number): never {
  process.stderr.write(`tsaio: ${message}\n`);
  process.exit(code);
}

function usageError(message: string): never {
  fail(`${message}\n${USAGE}\n(tsaio --help describes every command and option)`, 2);
}

type TsxApi = { register: () => unknown };

/** The file an `exports` entry names under the `import` condition (or its default). */
function importTarget(entry: unknown): string | null {
  if (typeof entry === "string") return entry;
  if (entry === null || typeof entry !== "object") return null;
  const e = entry as Record<string, unknown>;
  return importTarget(e.import ?? e.node ?? e.default);
}

/**
 * tsx's ESM API (`tsx/esm/api`, its ESM build: the CommonJS one cannot register the hooks), from the
 * program's own project first, then from wherever tsaio is installed; null when tsx is in neither.
 */
async function findTsx(file: string): Promise<TsxApi | null> {
  for (const from of [file, fileURLToPath(import.meta.url)]) {
    let pkgJson: string;
    try {
      pkgJson = createRequire(from).resolve("tsx/package.json");
    } catch {
      continue; // not installed there
    }
    const pkg = JSON.parse(readFileSync(pkgJson, "utf8")) as { exports?: Record<string, unknown> };
    const target = importTarget(pkg.exports?.["./esm/api"]);
    if (target === null) continue; // a tsx too old to have the API (< 4)
    const api = (await import(pathToFileURL(join(dirname(pkgJson), target)).href)) as Partial<TsxApi>;
    if (typeof api.register === "function") return api as TsxApi;
  }
  return null;
}

/** Whether this Node strips TypeScript types by itself (22.18+, 23.6+; not Node 20). */
function nodeStripsTypes(): boolean {
  return typeof (process.features as { typescript?: unknown }).typescript === "string";
}

async function importModule(file: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(file).href;
  if (/\.[cm]?tsx?$/.test(file)) {
    // tsx first: it handles all of TypeScript (enums, tsconfig paths…) where Node's stripping does
    // not. It must be registered *before* the first import: a failed import of a URL stays failed.
    const tsx = await findTsx(file);
    if (tsx !== null) tsx.register();
    else if (!nodeStripsTypes()) {
      fail(`cannot run ${file}: Node ${process.versions.node} cannot run TypeScript by itself; install tsx (npm i -D tsx) or use Node >= 22.18`, 2);
    }
  }
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ERR_UNKNOWN_FILE_EXTENSION" || code === "ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING" || code === "ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX") {
      fail(`cannot run ${file}: ${(e as Error).message.split("\n")[0]}; install tsx (npm i -D tsx)`, 2);
    }
    throw e;
  }
}

async function cmdRun(argv: string[]): Promise<void> {
  const dashes = argv.indexOf("--");
  const own = dashes < 0 ? argv : argv.slice(0, dashes);
  const programArgs = dashes < 0 ? [] : argv.slice(dashes + 1);
  const flags = new Set<string>();
  const files: string[] = [];
  for (const a of own) {
    if (a === "--help" || a === "-h") {
      console.log(HELP);
      return;
    }
    if (a.startsWith("-")) {
      if (!["--debug", "--virtual", "--introspect"].includes(a)) usageError(`run: unknown option ${a}`);
      flags.add(a);
    } else files.push(a);
  }
  if (files.length === 0) usageError("run needs a file");
  if (files.length > 1) usageError(`run takes one file; to pass arguments to the program, put them after --: tsaio run ${files[0]} -- ${files.slice(1).join(" ")}`);
  const file = resolve(files[0] as string);
  if (!existsSync(file)) fail(`no such file: ${files[0]}`, 2);
  // The program sees its own arguments where Node programs look for them.
  process.argv = [process.argv[0] as string, file, ...programArgs];
  const mod = await importModule(file);
  const main = mod.default;
  if (typeof main !== "function") fail(`${files[0]} has no default export function (export default async function main() { … })`, 2);
  if (flags.has("--introspect")) await enableIntrospection();
  try {
    const result = await run(main as () => unknown, { debug: flags.has("--debug") || undefined, clock: flags.has("--virtual") ? "virtual" : "real" });
    if (result !== undefined) console.log(result);
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  }
}

/** Control characters (but newline and tab) made visible: a task name must not drive the terminal. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

class NotListening extends Error {}

/** Sends `request` to the socket at `path`; rejects with NotListening when nobody listens there. */
function askAt(path: string, request: string, ms: number): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const sock = connect(path);
    let out = "";
    const timer = new LongTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer within ${ms / 1000} s`));
    }, ms);
    sock.setEncoding("utf8");
    sock.on("connect", () => sock.write(`${request}\n`));
    sock.on("data", (d: string) => (out += d));
    sock.on("end", () => {
      timer.cancel();
      resolvePromise(out);
    });
    sock.on("error", (e: NodeJS.ErrnoException) => {
      timer.cancel();
      if (e.code === "ENOENT" || e.code === "ECONNREFUSED") reject(new NotListening(e.code));
      else if (e.code === "EACCES") reject(new Error("its socket belongs to another user"));
      else reject(e);
    });
  });
}

/** Asks process `pid`, trying each directory its socket may be in (only private ones of ours). */
async function ask(pid: number, request: string): Promise<string> {
  for (const path of socketPathsFor(pid)) {
    if (checkPrivateDir(dirname(path), false) !== null) continue; // missing, or not ours: not to be trusted
    try {
      return await askAt(path, request, 3_000);
    } catch (e) {
      if (!(e instanceof NotListening)) throw new Error(`process ${pid}: ${(e as Error).message}`);
      if (e.message === "ECONNREFUSED") {
        try {
          unlinkSync(path); // a socket nobody listens on: its process is gone
        } catch {
          // raced with another cleaner
        }
      }
    }
  }
  throw new Error(
    `process ${pid} is not a tsaio process of yours with introspection on ` +
      "(start it with TSAIO_INTROSPECT=1, `tsaio run --introspect`, or call enableIntrospection())",
  );
}

function parseAskArgs(request: string, args: string[]): { pid: number | null; contents: boolean } {
  let contents = false;
  const rest: string[] = [];
  for (const a of args) {
    if (a === "--contents") contents = true;
    else if (a.startsWith("-")) usageError(`${request}: unknown option ${a}`);
    else rest.push(a);
  }
  if (rest.length > 1 || (rest.length === 1 && !/^\d+$/.test(rest[0] as string))) usageError(`${request} takes one pid (a number)`);
  if (rest.length === 0 && request === "pstree") usageError("pstree needs a pid");
  return { pid: rest.length === 0 ? null : Number(rest[0]), contents };
}

async function cmdAsk(request: "ps" | "pstree", args: string[]): Promise<void> {
  const { pid, contents } = parseAskArgs(request, args);
  if (pid === null) return listProcesses();
  try {
    process.stdout.write(printable(await ask(pid, contents ? `${request} contents` : request)));
  } catch (e) {
    fail((e as Error).message, 1);
  }
}

/** `tsaio ps` without a pid: the processes of this user with introspection on. */
async function listProcesses(): Promise<void> {
  const rows = await Promise.all(
    listSockets().map(async ({ pid, path }) => {
      try {
        const s = JSON.parse(await askAt(path, "summary", 2_000)) as { tasks: number; command: string };
        return `${String(pid).padEnd(8)} ${String(s.tasks).padStart(5)}  ${s.command}`;
      } catch (e) {
        if (e instanceof NotListening) {
          try {
            unlinkSync(path); // the pid now belongs to a process that does not listen: stale
          } catch {
            // raced with another cleaner
          }
          return null;
        }
        return `${String(pid).padEnd(8)}     ?  (${(e as Error).message})`;
      }
    }),
  );
  const live = rows.filter((r): r is string => r !== null);
  if (live.length === 0) {
    console.log("no tsaio process of yours has introspection on (start one with TSAIO_INTROSPECT=1 or `tsaio run --introspect`)");
    return;
  }
  process.stdout.write(printable(["PID      TASKS  COMMAND", ...live].join("\n")) + "\n");
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

const [cmd, ...rest] = process.argv.slice(2);
switch (cmd) {
  case "run":
    await cmdRun(rest);
    break;
  case "ps":
  case "pstree":
    await cmdAsk(cmd, rest);
    break;
  case "worker":
    // Loaded only for this command: tsaio/bullmq brings bullmq and ioredis.
    await (await import("./bullmq/cli.js")).workerCommand(rest);
    break;
  case "--help":
  case "-h":
  case "help":
    console.log(HELP);
    break;
  case "--version":
  case "-v":
    console.log(version());
    break;
  default:
    usageError(cmd === undefined ? "no command given" : `unknown command ${cmd}`);
}
