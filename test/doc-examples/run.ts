/**
 * The running half of the `@example` checker: a compiled copy of the library, and child processes
 * that run the examples.
 *
 * Why compiled: a child under tsx spends ~0.8 s CPU starting (its loader, then the library from
 * source); plain Node running JavaScript starts in ~0.2 s. So `src/**\/*.ts` and `examples/jobs.ts`
 * are transpiled once per run, types dropped, by the esbuild that tsx itself uses (tsx's dependency,
 * loaded from tsx's folder; ~0.1 s for the library, where TypeScript's transpileModule takes ~4 s),
 * into a temporary tree:
 *
 *   <tmp>/package.json         {"type":"module"}
 *   <tmp>/src/…                the library, `.js` beside `.js` as in dist/
 *   <tmp>/examples/jobs.js     the worker module the executor examples import as "./jobs.js"
 *   <tmp>/examples/<name>.js   each example, so `new URL("./jobs.js", import.meta.url)` finds it
 *   <tmp>/doc-log.js           the preload that defines `__docLog` (see extract.ts `instrument`)
 *
 * Why batches: starting Node and loading the library is most of an example's cost, so one child
 * runs a batch of examples (those of one source file), importing them one after the other; the test
 * reruns alone, in a fresh child, every example that did not pass in its batch.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { type DocExample, FINISHED, instrument, parseRecords, type Records } from "./extract.js";

/** The part of esbuild's API used here (esbuild is tsx's dependency, not this package's). */
interface Esbuild {
  transform(code: string, options: Record<string, unknown>): Promise<{ code: string }>;
  transformSync(code: string, options: Record<string, unknown>): { code: string };
}
/** What esbuild's transform throws on a syntax error: an Error with `errors`. */
interface EsbuildFailure extends Error {
  errors?: { text: string; location: { line: number; column: number } | null }[];
}

const esbuild = createRequire(createRequire(import.meta.url).resolve("tsx/package.json"))("esbuild") as Esbuild;
const OPTIONS = { loader: "ts", format: "esm", target: "node20" };

/**
 * The example as JavaScript, with a source map (its errors then name its lines). A syntax error
 * becomes a message with the example's line numbers: `line 3: Unexpected "..."`.
 */
function transpileExample(code: string, fileName: string): string {
  try {
    return esbuild.transformSync(code, { ...OPTIONS, sourcemap: "inline", sourcefile: fileName }).code;
  } catch (e) {
    const errors = (e as EsbuildFailure).errors;
    if (errors === undefined) throw e;
    throw new SyntaxError(errors.map((m) => `line ${m.location?.line ?? 0}: ${m.text}`).join("\n"));
  }
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? tsFiles(p) : name.endsWith(".ts") && !name.endsWith(".d.ts") ? [p] : [];
  });
}

const PRELOAD = `// Defined for the examples: console.log that also records, per line, what it printed.
import { appendFileSync } from "node:fs";
import { format } from "node:util";
const out = process.env.TSAIO_DOC_RECORDS;
globalThis.__docLog = (tag, index, ...args) => {
  if (out) appendFileSync(out, JSON.stringify([tag, index, format(...args)]) + "\\n");
  if (index !== ${FINISHED}) console.log(...args);
};
`;

/** The compiled tree: `ready` settles once the library is in it; `dispose()` removes it. */
export interface Tree {
  readonly dir: string;
  /** The package's specifiers → the tree's modules (see {@link packageSpecifiers}). */
  readonly specifiers: Readonly<Record<string, string>>;
  readonly ready: Promise<void>;
  dispose(): void;
}

/**
 * The package's specifiers (`"tsaio"`, `"tsaio/testing"`, … from package.json's `exports`), each
 * mapped to its source module as seen from `<tmp>/examples/`: `./dist/x.js` → `../src/x.js`.
 */
function packageSpecifiers(root: string): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { name: string; exports: Record<string, string | { default?: string }> };
  const out: Record<string, string> = {};
  for (const [key, target] of Object.entries(pkg.exports)) {
    const file = typeof target === "string" ? target : target.default;
    if (file === undefined || !/^\.\/dist\/.*\.js$/.test(file)) continue;
    out[key === "." ? pkg.name : `${pkg.name}/${key.slice(2)}`] = `../src/${file.slice("./dist/".length)}`;
  }
  return out;
}

/** Makes a fresh temporary directory and transpiles the library and the examples' worker module into it. */
export function compileTree(root: string): Tree {
  const dir = mkdtempSync(join(tmpdir(), "tsaio-doc-examples-"));
  writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
  // The optional peer dependencies (ioredis, bullmq) resolve from the repo's node_modules, as in a
  // user's project that installed them.
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"), "dir");
  writeFileSync(join(dir, "doc-log.js"), PRELOAD);
  mkdirSync(join(dir, "examples"));
  const ready = Promise.all(
    [...tsFiles(join(root, "src")), join(root, "examples", "jobs.ts")].map(async (file) => {
      const target = join(dir, relative(root, file)).replace(/\.ts$/, ".js");
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, (await esbuild.transform(readFileSync(file, "utf8"), { ...OPTIONS, sourcefile: file })).code);
    }),
  ).then(() => {});
  return { dir, specifiers: packageSpecifiers(root), ready, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A file name for the example: `src/executors/pool.ts:59` → `src-executors-pool-59`. */
export function exampleName(ex: DocExample): string {
  return `${ex.file.replace(/\.ts$/, "").replace(/[^A-Za-z0-9]+/g, "-")}-${ex.line}`;
}

/** Writes the example's module into the tree; returns the error message if it does not compile. */
export function writeExample(tree: Tree, ex: DocExample): string | null {
  const name = exampleName(ex);
  try {
    writeFileSync(join(tree.dir, "examples", `${name}.js`), transpileExample(instrument(ex, tree.specifiers, name), `${name}.ts`));
    return null;
  } catch (e) {
    // `line N` of the example → its line in src/.
    return (e as Error).message.replace(/^line (\d+)/gm, (_m, n: string) => `${ex.file}:${ex.lines[Number(n) - 1] ?? `?${n}`}`);
  }
}

/** How a child process that ran some examples ended. */
export interface Outcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
  /** Each example's records, by the example; an example that finished has a {@link FINISHED} record. */
  readonly records: ReadonlyMap<DocExample, Records>;
}

let batches = 0;

/**
 * Runs `examples` (written by {@link writeExample}) one after the other in one child process, its
 * own process group, killed whole after `timeoutMs`. Stack traces that name an example's module are
 * rewritten to the `src/` file and line.
 */
export async function runExamples(tree: Tree, examples: readonly DocExample[], timeoutMs: number): Promise<Outcome> {
  await tree.ready;
  const id = `batch-${++batches}`;
  const entry = join(tree.dir, "examples", `${id}.js`);
  const recordFile = join(tree.dir, "examples", `${id}.records`);
  const names = examples.map(exampleName);
  writeFileSync(
    entry,
    names.map((n) => `await import("./${n}.js");\n__docLog(${JSON.stringify(n)}, ${FINISHED});\n`).join(""),
  );
  writeFileSync(recordFile, "");
  const env: NodeJS.ProcessEnv = { ...process.env, TSAIO_DOC_RECORDS: recordFile };
  // The child is a plain program, not a test file or a terminal.
  delete env.NODE_TEST_CONTEXT;
  delete env.FORCE_COLOR;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--enable-source-maps", "--import", pathToFileURL(join(tree.dir, "doc-log.js")).href, entry], {
      cwd: tree.dir,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const killer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }, timeoutMs);
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      const where = (s: string) =>
        examples.reduce((text, ex, i) => {
          // `…/examples/<name>.ts:12:5` → `src/locks.ts:78:5` (the example's lines map one to one).
          const at = new RegExp(`(?:file://)?[^\\s()]*${names[i]}\\.(?:ts|js):(\\d+)`, "g");
          return text.replace(at, (_m, n: string) => `${ex.file}:${ex.lines[Number(n) - 1] ?? `?${n}`}`);
        }, s);
      const parsed = parseRecords(readFileSync(recordFile, "utf8"));
      resolve({
        code,
        signal,
        timedOut,
        stdout: where(stdout),
        stderr: where(stderr),
        records: new Map(examples.map((ex, i) => [ex, parsed.get(names[i]) ?? new Map()])),
      });
    });
  });
}

/** Runs `tasks` with at most `limit` at once; the results come in `tasks`' order. */
export function pool<T>(tasks: readonly (() => Promise<T>)[], limit: number): Promise<T>[] {
  let running = 0;
  const queue: (() => void)[] = [];
  const slot = () =>
    new Promise<void>((start) => {
      if (running < limit) {
        running++;
        start();
      } else queue.push(start);
    });
  const release = () => {
    const next = queue.shift();
    if (next) next();
    else running--;
  };
  return tasks.map((task) => slot().then(task).finally(release));
}
