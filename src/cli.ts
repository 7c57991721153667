#!/usr/bin/env node
/**
 * The `tsaio` command.
 *
 *   tsaio run <file.ts|js> [--debug] [--virtual] [--introspect]   run the module's default export under run()
 *   tsaio ps <pid>                                                 list the tasks of a running tsaio process
 *   tsaio pstree <pid>                                             print its task tree
 *
 * Exit codes: 0 success, 1 the program failed (or the process could not be asked), 2 bad usage or a
 * file that cannot be run, 130 interrupted.
 * @module
 */
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { enableIntrospection, socketPathFor } from "./debug/introspect.js";
import { run } from "./runners.js";

const USAGE = `usage:
  tsaio run <file.ts|file.js> [--debug] [--virtual] [--introspect]
  tsaio ps <pid>
  tsaio pstree <pid>`;

function fail(message: string, code: number): never {
  process.stderr.write(`tsaio: ${message}\n`);
  process.exit(code);
}

async function importModule(file: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(file).href;
  if (/\.[cm]?ts$/.test(file)) {
    // Node >= 22.18 strips types itself; older Nodes need a TypeScript loader (tsx) if one is installed.
    try {
      return (await import(url)) as Record<string, unknown>;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code !== "ERR_UNKNOWN_FILE_EXTENSION" && code !== "ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING") throw e;
      try {
        const api = (await import("tsx/esm/api")) as { register: () => unknown };
        api.register();
      } catch {
        fail(`cannot load ${file}: this Node cannot run TypeScript by itself; install tsx (npm i -D tsx) or use Node >= 22.18`, 2);
      }
      return (await import(url)) as Record<string, unknown>;
    }
  }
  return (await import(url)) as Record<string, unknown>;
}

async function cmdRun(args: string[]): Promise<void> {
  const flags = new Set(args.filter((a) => a.startsWith("--")));
  const files = args.filter((a) => !a.startsWith("--"));
  for (const f of flags) if (!["--debug", "--virtual", "--introspect"].includes(f)) fail(`unknown option ${f}\n${USAGE}`, 2);
  if (files.length !== 1) fail(`run needs exactly one file\n${USAGE}`, 2);
  const file = resolve(files[0] as string);
  if (!existsSync(file)) fail(`no such file: ${files[0]}`, 2);
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

function ask(pid: number, request: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const sock = connect(socketPathFor(pid));
    let out = "";
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`process ${pid} did not answer within 3 s`));
    }, 3000);
    sock.setEncoding("utf8");
    sock.on("connect", () => sock.write(`${request}\n`));
    sock.on("data", (d: string) => (out += d));
    sock.on("end", () => {
      clearTimeout(timer);
      resolvePromise(out);
    });
    sock.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === "ENOENT" || e.code === "ECONNREFUSED") {
        reject(
          new Error(
            `process ${pid} is not a tsaio process of yours with introspection on ` +
              "(start it with TSAIO_INTROSPECT=1, `tsaio run --introspect`, or call enableIntrospection())",
          ),
        );
      } else if (e.code === "EACCES") reject(new Error(`process ${pid} belongs to another user`));
      else reject(e);
    });
  });
}

async function cmdAsk(request: string, args: string[]): Promise<void> {
  if (args.length !== 1 || !/^\d+$/.test(args[0] as string)) fail(`${request} needs a pid\n${USAGE}`, 2);
  try {
    process.stdout.write(await ask(Number(args[0]), request));
  } catch (e) {
    fail((e as Error).message, 1);
  }
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
  case "--help":
  case "-h":
  case "help":
    console.log(USAGE);
    break;
  default:
    fail(cmd === undefined ? USAGE : `unknown command ${cmd}\n${USAGE}`, 2);
}
