/**
 * Type-checks the `@example` blocks: an example is TypeScript a reader copies, and some (the
 * `FunctionKeys`/`WorkerFunctions` ones) are only about types, which running them cannot check.
 * Each is written as `<tmp>/<name>.ts` beside a `jobs.ts` that re-exports `examples/jobs.ts`, and
 * one `tsc` (a child process, concurrent with the runs) checks them with the repo's compiler options,
 * the package's specifiers mapped by `paths` to dist/'s declarations when fresh, else to src/ (see
 * {@link typePaths}).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DocExample } from "./extract.js";
import { exampleName } from "./run.js";

function newest(dir: string): number {
  return Math.max(
    0,
    ...readdirSync(dir).map((name) => {
      const p = join(dir, name);
      const st = statSync(p);
      return st.isDirectory() ? newest(p) : name.endsWith(".ts") ? st.mtimeMs : 0;
    }),
  );
}

/**
 * The package's specifiers (package.json's `exports`) → the files that type them, for `paths`:
 * dist/'s declarations when they are newer than every source file (as in `npm test`, which builds
 * first: the public surface a user sees, and half the time of checking src/), else the source.
 */
export function typePaths(root: string): { against: "dist" | "src"; paths: Record<string, string[]> } {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { name: string; exports: Record<string, string | { types?: string; default?: string }> };
  const entries = Object.entries(pkg.exports).flatMap(([key, target]) => {
    const js = typeof target === "string" ? target : target.default;
    const dts = typeof target === "string" ? undefined : target.types;
    if (js === undefined || !/^\.\/dist\/.*\.js$/.test(js)) return [];
    const specifier = key === "." ? pkg.name : `${pkg.name}/${key.slice(2)}`;
    return [{ specifier, src: join(root, "src", js.slice("./dist/".length).replace(/\.js$/, ".ts")), dts: dts === undefined ? undefined : join(root, dts) }];
  });
  const built = entries.every((e) => e.dts !== undefined && existsSync(e.dts) && statSync(e.dts).mtimeMs >= newest(join(root, "src")));
  return { against: built ? "dist" : "src", paths: Object.fromEntries(entries.map((e) => [e.specifier, [built ? e.dts! : e.src]])) };
}

/** The type errors of each example (messages naming the `src/` line), from one `tsc` run. */
export function typecheck(root: string, examples: readonly DocExample[]): Promise<Map<DocExample, string[]>> {
  const { paths } = typePaths(root);
  const dir = mkdtempSync(join(tmpdir(), "tsaio-doc-types-"));
  writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
  writeFileSync(join(dir, "jobs.ts"), `export * from ${JSON.stringify(join(root, "examples", "jobs.js"))};\n`);
  const byName = new Map(examples.map((e) => [exampleName(e), e]));
  for (const [name, e] of byName) writeFileSync(join(dir, `${name}.ts`), e.code.join("\n") + "\n");
  const config = {
    extends: join(root, "tsconfig.json"),
    compilerOptions: { noEmit: true, paths, typeRoots: [join(root, "node_modules", "@types")] },
    include: ["*.ts"],
  };
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(config, null, 2));
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsc, "-p", "tsconfig.json", "--pretty", "false"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.on("error", reject);
    child.on("close", () => {
      rmSync(dir, { recursive: true, force: true });
      const errors = new Map<DocExample, string[]>(examples.map((e) => [e, []]));
      let last: string[] | null = null;
      for (const line of out.split("\n")) {
        const m = /^(.*?)\((\d+),(\d+)\): error (TS\d+: .*)$/.exec(line);
        if (m === null) {
          // A message's continuation lines are indented; anything else ends it.
          if (last !== null && /^\s+\S/.test(line)) last[last.length - 1] += `\n${line}`;
          else last = null;
          continue;
        }
        // tsc names files relative to its cwd, `dir`: an example is `<name>.ts` there.
        const e = /^[^/\\]+\.ts$/.test(m[1]) ? byName.get(m[1].slice(0, -3)) : undefined;
        if (e === undefined) {
          last = null; // an error elsewhere (the library itself): the typecheck step reports it
          continue;
        }
        last = errors.get(e)!;
        last.push(`${e.file}:${e.lines[Number(m[2]) - 1] ?? `?${m[2]}`}:${m[3]} - ${m[4]}`);
      }
      resolve(errors);
    });
  });
}
