/**
 * Every `@example` block in the TSDoc of `src/**\/*.ts` runs, and what it prints is checked.
 *
 * The convention, for whoever writes an example:
 * - An example is a ```ts fence right after `@example`: a complete module, as a reader would paste it
 *   into a file (top-level `await` is fine: outside `run()` tasks run on the default loop). It
 *   imports the library as `"tsaio"`, `"tsaio/testing"`… (package.json's `exports`); here those name
 *   the source, `src/index.ts`, `src/testing.ts`…. It runs as if it were a file in `examples/`: the
 *   executor examples' worker module, `new URL("./jobs.js", import.meta.url)`, is `examples/jobs.ts`.
 * - `console.log(x); // 42`: a line that calls `console.log` and ends in a comment is checked: what
 *   the line printed (formatted as console.log formats it) must equal the comment's text, trimmed.
 *   A line that runs several times (in a loop, a callback) is checked against all its outputs in
 *   order, joined by one space: `for (const x of [1, 2]) console.log(x); // 1 2`. A checked line
 *   that never runs fails. Write explanations on a line of their own, not after the expected output.
 *   A comment is one line: for output with line breaks, print `JSON.stringify(text)`, or a part.
 * - `console.log(t); // e.g. 12.5`: a comment starting with `e.g.` is not checked — for output that
 *   varies (timings, pids, paths, digests, inspect strings).
 * - A `console.log` line without a trailing comment, and any other comment, is not checked.
 * - Examples are type-checked too, with the repo's compiler options, against dist/'s declarations
 *   when they are fresh (as in `npm test`), else against src/ (see doc-examples/typecheck.ts).
 * - An example whose first line is `// not run: <reason>` does not run (one that is not
 *   self-contained); use sparingly. One whose first line is `// needs: redis` runs against the Redis at
 *   `REDIS_URL` (default 127.0.0.1:6379) when it answers; otherwise it is skipped with one loud line
 *   (under `CI=true` that fails). The others must exit with code 0
 *   within 15 s.
 *
 * The examples of one source file run in one child process, one after the other, a few files at
 * once; an example that fails there reruns alone, up to twice, before it counts as failed (see below
 * and doc-examples/run.ts). `TSAIO_DOC_EXAMPLES=locks,pool.ts:59` runs the examples whose `file:line`
 * contains one of the words.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, test } from "node:test";
import { compare, type DocExample, expectations, extractExamples, findExamples, FINISHED, instrument, needsServer, notRunReason, splitComment } from "./doc-examples/extract.js";
import { compileTree, type Outcome, pool, runExamples, writeExample } from "./doc-examples/run.js";
import { typecheck, typePaths } from "./doc-examples/typecheck.js";

/** The repo: the nearest folder above this file with a package.json (so the file may move within test/). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    if (dirname(dir) === dir) throw new Error("no package.json above test/doc-examples.test.ts");
    dir = dirname(dir);
  }
  return dir;
}
const ROOT = repoRoot();
const TIMEOUT_MS = 15_000;

describe("the checker", () => {
  const ex = (code: string[]): DocExample => ({ file: "src/x.ts", line: 10, code, lines: code.map((_, i) => 12 + i) });

  test("finds the fenced code after @example, with its source lines", () => {
    const text = ["/**", " * Doc.", " * @example", " * ```ts", " * const a = 1;", " *", " *   indented();", " * ```", " */"].join("\n");
    const [found] = extractExamples("src/x.ts", text);
    assert.deepEqual(found, { file: "src/x.ts", line: 3, code: ["const a = 1;", "", "  indented();"], lines: [5, 6, 7] });
  });

  test("reads trailing comments outside strings; `e.g.` is unchecked; lines without console.log are prose", () => {
    assert.deepEqual(splitComment(`console.log("http://x", '//', \`//\`); // ok`), { code: `console.log("http://x", '//', \`//\`); `, comment: "ok", at: 37 });
    const e = ex(["console.log(1); // 1", "console.log(2); // e.g. 2", "await q.put(1); // waits", "console.log(3);", "// console.log(4); // 4"]);
    assert.deepEqual(expectations(e), [
      { index: 0, expected: "1" },
      { index: 1, expected: null },
    ]);
  });

  test("a wrong expectation fails with the file, the line and both texts; a line that never ran fails", () => {
    const e = ex(["import { sleep } from \"tsaio\";", "for (const x of [1, 2]) console.log(x); // 1 2", "console.log(6 * 7); // 24", "if (false) console.log(0); // 0"]);
    const failures = compare(
      e,
      new Map([
        [1, ["1", "2"]],
        [2, ["42"]],
      ]),
    );
    assert.equal(failures.length, 2);
    assert.match(failures[0], /^src\/x\.ts:14 \(in the @example of line 10\): console\.log\(6 \* 7\); \/\/ 24\n\s+expected: 24\n\s+printed: {2}42$/);
    assert.match(failures[1], /src\/x\.ts:15 .*\n.*expected: 0\n.*nothing: the line never ran/);
    assert.deepEqual(compare(e, new Map([[1, ["1", "2"]], [2, ["24"]], [3, ["0"]]])), []);
  });

  test("instrumenting rewrites the package's specifiers and the checked lines' console.log, line for line", () => {
    const e = ex(['import { run } from "tsaio";', 'import { runVirtual } from "tsaio/testing";', "console.log(await run(f)); // 1", 'console.log("x");']);
    assert.equal(
      instrument(e, { tsaio: "../src/index.js", "tsaio/testing": "../src/testing.js" }, "x-10"),
      ['import { run } from "../src/index.js";', 'import { runVirtual } from "../src/testing.js";', '__docLog("x-10", 2, await run(f)); // 1', 'console.log("x");'].join("\n"),
    );
  });

  test("an example that does not compile is reported with its line in src/", () => {
    const tree = { dir: "/nonexistent", specifiers: {}, ready: Promise.resolve(), dispose: () => {} };
    assert.equal(writeExample(tree, ex(["const a = 1;", "export function f(): number { ... }"])), 'src/x.ts:13: Unexpected "..."');
  });

  test("an opt-out needs a reason", () => {
    assert.equal(notRunReason(ex(["// not run: needs PostgreSQL", "x();"])), "needs PostgreSQL");
    assert.equal(notRunReason(ex(["// not run:", "x();"])), null);
  });

  test("`// needs: redis` names the server an example needs; other first lines name none", () => {
    assert.equal(needsServer(ex(["// needs: redis", "x();"])), "redis");
    assert.equal(needsServer(ex(["// needs: kafka", "x();"])), null);
    assert.equal(needsServer(ex(["x(); // needs: redis"])), null);
  });
});

/** Why an example failed in a child that ran it, or null when it passed. */
function verdict(e: DocExample, o: Outcome, timeoutMs: number): string | null {
  const name = `${e.file}:${e.line}`;
  const output = `\n--- stdout ---\n${o.stdout}--- stderr ---\n${o.stderr}`;
  if (o.timedOut) return `${name}: the @example did not finish within ${timeoutMs / 1000} s${output}`;
  if (o.code !== 0) return `${name}: the @example exited with ${o.code ?? o.signal}${output}`;
  const records = o.records.get(e);
  if (records?.has(FINISHED) !== true) return `${name}: the @example's module did not finish (its top-level await never settled)${output}`;
  const failures = compare(e, records);
  return failures.length > 0 ? `${failures.join("\n")}${output}` : null;
}

/** A failure in a few lines: its first, and those that name an error or a mismatch. */
function summary(failure: string): string {
  const [head, ...rest] = failure.split("\n");
  return [head, ...rest.filter((l) => /^\s*(\w*Error\b|expected:|printed:)/.test(l)).slice(0, 3)].join("\n");
}

describe("the @example blocks of src/", () => {
  const only = process.env.TSAIO_DOC_EXAMPLES?.split(",").filter((w) => w !== "");
  const examples = findExamples(ROOT).filter((e) => only === undefined || only.some((w) => `${e.file}:${e.line}`.includes(w)));
  const tree = compileTree(ROOT);
  after(() => tree.dispose());
  // One tsc over all examples, beside the runs; with a canary that must get its one error.
  const canary: DocExample = { file: "src/(canary).ts", line: 1, code: ['const n: number = "not a number";', "export { n };"], lines: [2, 3] };
  const typeErrors = typecheck(ROOT, [...examples, canary]);
  test(`the type check (against ${typePaths(ROOT).against}/) reports an example's type errors (a canary example with one)`, async () => {
    assert.deepEqual((await typeErrors).get(canary), ["src/(canary).ts:2:7 - TS2322: Type 'string' is not assignable to type 'number'."]);
  });
  const compileErrors = new Map(examples.map((e) => [e, notRunReason(e) === null ? writeExample(tree, e) : null]));
  const redis = examples.some((e) => needsServer(e) === "redis") ? redisAnswers() : Promise.resolve(null);
  const runnable = examples.filter((e) => notRunReason(e) === null && compileErrors.get(e) === null);

  // One batch per source file, the largest first; a few batches at once, since examples mostly wait
  // (timers, sockets, children). An example that does not pass in its batch (which must exit with
  // code 0) reruns alone, up to twice: a machine loaded by other tests can stall a 10 ms sleep long
  // enough to reorder timers, and an example may be disturbed by one before it in the batch.
  const byFile = new Map<string, DocExample[]>();
  for (const e of runnable) byFile.set(e.file, [...(byFile.get(e.file) ?? []), e]);
  const batches = [...byFile.values()].sort((a, b) => b.length - a.length);
  const settled = new Map<DocExample, Promise<{ failure: string | null; note: string | null }>>();
  const done = pool(
    batches.map((batch) => async () => {
      const out = new Map<DocExample, { failure: string | null; note: string | null }>();
      const missing = batch.some((e) => needsServer(e) !== null) ? await redis : null;
      if (missing !== null) {
        // The server does not answer: these examples are reported by their tests below, not run.
        for (const e of batch) if (needsServer(e) !== null) out.set(e, { failure: null, note: null });
        batch = batch.filter((e) => needsServer(e) === null);
        if (batch.length === 0) return out;
      }
      // A batch gets each example's 15 s, up to a minute: a hang costs that, then the solo reruns.
      const batchMs = Math.min(batch.length * TIMEOUT_MS, 60_000);
      const o = await runExamples(tree, batch, batchMs);
      for (const e of batch) {
        const inBatch = verdict(e, o, batchMs);
        if (inBatch === null) {
          out.set(e, { failure: null, note: null });
          continue;
        }
        const first = batch.length === 1 ? inBatch : verdict(e, await runExamples(tree, [e], TIMEOUT_MS), TIMEOUT_MS);
        const second = first === null ? null : verdict(e, await runExamples(tree, [e], TIMEOUT_MS), TIMEOUT_MS);
        out.set(e, {
          failure: second === null ? null : `${second}\n(it failed the run before too:)\n${first}`,
          note: `passed alone, after failing ${first === null ? "in its batch" : "in its batch and alone"}: ${summary(first ?? inBatch)}`,
        });
      }
      return out;
    }),
    Math.max(2, Math.min(8, availableParallelism() * 2)),
  );
  batches.forEach((batch, i) => batch.forEach((e) => settled.set(e, done[i].then((m) => m.get(e)!))));

  for (const e of examples) {
    const reason = notRunReason(e);
    const name = `${e.file}:${e.line}`;
    if (reason !== null) {
      test(name, { skip: `not run: ${reason}` }, () => {});
      continue;
    }
    test(name, async (t) => {
      if (needsServer(e) !== null) {
        const missing = await redis;
        if (missing !== null) {
          if (process.env.CI === "true") assert.fail(`${name} needs Redis and CI=true: ${missing}`);
          console.error(`\n*** SKIPPED ${name}: it needs Redis — ${missing} ***\n`);
          t.skip(`needs Redis: ${missing}`);
          return;
        }
      }
      const compileError = compileErrors.get(e);
      if (compileError !== null) assert.fail(`${name}: the @example does not compile:\n${compileError}`);
      const { failure, note } = await settled.get(e)!;
      if (failure !== null) assert.fail(failure);
      const types = (await typeErrors).get(e)!;
      if (types.length > 0) assert.fail(`${name}: the @example does not type-check:\n${types.join("\n")}`);
      if (note !== null) t.diagnostic(note);
    });
  }
});

/** null when a Redis answers PING at `REDIS_URL` (default 127.0.0.1:6379), else why not. */
function redisAnswers(): Promise<string | null> {
  const url = new URL(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
  const host = url.hostname === "" ? "127.0.0.1" : url.hostname;
  const port = Number(url.port === "" ? 6379 : url.port);
  return new Promise((resolve) => {
    const s = connect({ host, port });
    let got = "";
    const end = (why: string | null): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(why);
    };
    const timer = setTimeout(() => end(`no answer from ${host}:${port} within 2 s`), 2000);
    s.on("connect", () => s.write("PING\r\n"));
    s.on("data", (d) => {
      got += d.toString("latin1");
      if (got.includes("\r\n")) end(got.startsWith("+PONG") ? null : `${host}:${port} answered ${JSON.stringify(got.trim())} to PING`);
    });
    s.on("error", (e) => end(`nothing answers at ${host}:${port} (${e.message})`));
  });
}
