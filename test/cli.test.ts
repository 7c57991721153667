/**
 * The `tsaio` command as a newcomer meets it (issue 17): installed from the package (`npm pack`, then
 * `npm install` in a fresh project), run through `node_modules/.bin/tsaio` and `npx`, on the Node
 * running this test (CI runs it on Node 20 and Node 24). The other CLI tests run src/cli.ts through
 * tsx, which hid that the installed bin could not run a .ts file on Node 20.
 *
 * Like the crawler test, this packs the built package: run `npm run build` first (`npm test` does).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(file: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Result> {
  // The node running this test first on PATH: the bin's `#!/usr/bin/env node` must find it.
  const env = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}`, ...options.env };
  return new Promise((resolve) => {
    execFile(file, args, { cwd: options.cwd, env, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === "number" ? err.code : -1, stdout, stderr });
    });
  });
}

const HELLO = `import { sleep } from "tsaio";
enum Greeting { Hello = "hello" } // not erasable: Node's own type stripping cannot run this file
export default async function main(): Promise<string> {
  await sleep(5);
  return \`\${Greeting.Hello} \${JSON.stringify(process.argv.slice(2))}\`;
}
`;
const PLAIN = `import { sleep } from "tsaio";
export default async function main(): Promise<string> {
  const n: number = await sleep(5, 7);
  return \`plain \${n} \${process.argv.slice(2).join(",")}\`;
}
`;

describe("the installed tsaio bin", () => {
  let project: string;
  let bin: string;
  before(async () => {
    assert.ok(existsSync(join(root, "dist", "cli.js")), "test/cli.test.ts packs the built package: run `npm run build` first");
    project = mkdtempSync(join(tmpdir(), "tsaio-cli-test-"));
    // Pack what would be published (dist/ is already built: no scripts), install it as a user would.
    const pack = await exec("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", project], { cwd: root });
    assert.equal(pack.code, 0, pack.stderr);
    const tarball = readdirSync(project).find((f) => f.endsWith(".tgz"));
    assert.ok(tarball !== undefined, pack.stdout);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "newcomer", version: "1.0.0", type: "module", private: true }));
    writeFileSync(join(project, "hello.ts"), HELLO);
    writeFileSync(join(project, "plain.ts"), PLAIN);
    const install = await exec("npm", ["install", "--offline", "--ignore-scripts", "--no-audit", "--no-fund", `./${tarball}`, join(root, "node_modules", "tsx")], { cwd: project });
    assert.equal(install.code, 0, install.stderr);
    assert.ok(lstatSync(join(project, "node_modules", "tsx")).isSymbolicLink());
    bin = join(project, "node_modules", ".bin", "tsaio");
    assert.ok(existsSync(bin));
  });
  after(() => rmSync(project, { recursive: true, force: true }));

  test("`tsaio run file.ts -- args` runs a TypeScript file (through the project's tsx) and passes the arguments", async () => {
    const r = await exec(bin, ["run", "hello.ts", "--", "a", "--b", "c d"], { cwd: project });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `hello ["a","--b","c d"]`);
    assert.equal(r.stderr, "");
  });

  test("`npx tsaio run file.ts` works the same", async () => {
    const r = await exec("npx", ["--offline", "tsaio", "run", "--virtual", "plain.ts", "--", "x"], { cwd: project });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "plain 7 x");
  });

  test("arguments without -- are refused with the hint; options may come before or after the file", async () => {
    const r = await exec(bin, ["run", "plain.ts", "extra"], { cwd: project });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /put them after --: tsaio run plain\.ts -- extra/);
    const ok = await exec(bin, ["run", "plain.ts", "--virtual", "--", "--virtual"], { cwd: project });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), "plain 7 --virtual", "after --, --virtual is the program's");
  });

  test("without tsx: Node's own type stripping where there is one, else one clear line", async () => {
    unlinkSync(join(project, "node_modules", "tsx")); // npm linked it to this repository's copy: unlink, never delete
    const strips = typeof (process.features as { typescript?: unknown }).typescript === "string";
    const plain = await exec(bin, ["run", "plain.ts", "--", "q"], { cwd: project });
    const hello = await exec(bin, ["run", "hello.ts"], { cwd: project });
    if (strips) {
      assert.equal(plain.code, 0, plain.stderr);
      assert.equal(plain.stdout.trim(), "plain 7 q");
    } else {
      assert.equal(plain.code, 2);
      assert.match(plain.stderr, /^tsaio: cannot run .*plain\.ts: Node [\d.]+ cannot run TypeScript by itself; install tsx \(npm i -D tsx\)/);
      assert.equal(plain.stderr.trim().split("\n").length, 1);
    }
    assert.equal(hello.code, 2, "an enum needs tsx on every Node");
    assert.match(hello.stderr, /install tsx/);
  });

  test("`tsaio --help` describes every command and every option", async () => {
    const r = await exec(bin, ["--help"], { cwd: project });
    assert.equal(r.code, 0, r.stderr);
    for (const cmd of ["run <file>", "ps [<pid>]", "pstree <pid>"]) assert.match(r.stdout, new RegExp(`^  ${cmd.replace(/[[\]]/g, "\\$&")} +\\S.{20,}`, "m"), cmd);
    for (const opt of ["--debug", "--virtual", "--introspect", "-- args…", "--contents", "-h, --help", "-v, --version"]) {
      assert.match(r.stdout, new RegExp(`^  ${opt} +\\S.{15,}`, "m"), `${opt} is described`);
    }
    assert.match(r.stdout, /Exit status: 0 success/);
    const v = await exec(bin, ["--version"], { cwd: project });
    assert.match(v.stdout.trim(), /^\d+\.\d+\.\d+/);
    const bad = await exec(bin, ["frobnicate"], { cwd: project });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown command frobnicate[\s\S]*tsaio --help describes every command and option/);
  });
});
