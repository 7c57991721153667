import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as fsp from "node:fs/promises";
import { join as pathJoin } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer, Socket } from "node:net";
import { after, describe, test } from "node:test";
import { BrokenExecutorError, InvalidStateError, ProcessPoolExecutor, ThreadPoolExecutor, workerModule } from "../../src/index.js";
import { jobs } from "./helpers.js";

const p = new ThreadPoolExecutor({ maxWorkers: 1 });
after(() => p.shutdown());

/** Resolves with how long `fut` took to reject; fails if it resolves or takes over 10 s. */
async function rejectsSoon(fut: PromiseLike<unknown>, check: (e: unknown) => boolean): Promise<void> {
  const limit = new Promise<never>((_, rej) => setTimeout(() => rej(new Error("hang: the future did not settle within 10 s")), 10_000).unref());
  await assert.rejects(Promise.race([Promise.resolve(fut), limit]), (e: unknown) => {
    assert.ok(check(e), `unexpected error: ${String(e)}`);
    return true;
  });
}

describe("bad input fails the returned future clearly, never hangs", () => {
  test("a module that does not exist (at submit: no round trip)", async () => {
    const missing = workerModule<{ f(): void }>(new URL("./no-such-module.js", import.meta.url));
    const fut = p.submit(missing.fns.f);
    assert.ok(fut.done(), "rejected at submit time");
    await rejectsSoon(fut, (e) => e instanceof Error && /cannot find worker module .*no-such-module\.js/.test(e.message) && (e as Error & { code: string }).code === "ERR_MODULE_NOT_FOUND");
  });

  test("an export that is not a function, and one that does not exist", async () => {
    const loose = workerModule<Record<string, (...a: unknown[]) => unknown>>(jobs.url);
    await rejectsSoon(p.submit(loose.fns.notAFunction), (e) => e instanceof TypeError && /export "notAFunction" of worker module .*jobs\.js is not a function \(it is number\)/.test(e.message));
    await rejectsSoon(p.submit(loose.fns.nope), (e) => e instanceof TypeError && /has no export named "nope" \(its exports: .*inc.*\)/.test(e.message));
    // With the module's type, a wrong name does not compile:
    // @ts-expect-error — "incc" is not an export of jobs.ts
    void jobs.fns.incc;
    // @ts-expect-error — notAFunction is not a function export
    void jobs.fn("notAFunction");
    // @ts-expect-error — wrong argument type
    void p.submit(jobs.fns.inc, "1");
  });

  test("arguments that cannot be cloned: functions, sockets — other jobs unaffected", async () => {
    const good1 = p.submit(jobs.fns.inc, 1);
    const fn = p.submit(jobs.fns.byteLength, (() => 1) as unknown as ArrayBuffer);
    assert.ok(fn.done(), "a top-level function argument is refused at submit time");
    const nested = p.submit(jobs.fns.byteLength, { deep: [() => 1] } as unknown as ArrayBuffer);
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const sock = new Socket();
    const socketJob = p.submit(jobs.fns.byteLength, sock as unknown as ArrayBuffer);
    const good2 = p.submit(jobs.fns.inc, 2);
    await rejectsSoon(fn, (e) => e instanceof TypeError && /argument 1 is a function, which cannot be sent to a worker/.test(e.message));
    await rejectsSoon(nested, (e) => e instanceof TypeError && /an argument cannot be sent to a worker: .*could not be cloned/.test(e.message));
    await rejectsSoon(socketJob, (e) => e instanceof TypeError && /cannot be sent to a worker/.test(e.message));
    assert.equal(await good1, 2);
    assert.equal(await good2, 3);
    sock.destroy();
    server.close();
  });

  test("a result that cannot be cloned", async () => {
    await rejectsSoon(p.submit(jobs.fns.returnFunction), (e) => e instanceof TypeError && /the result of returnFunction cannot be sent back/.test(e.message));
  });

  test("a function that cannot be sent by source", async () => {
    await rejectsSoon(p.submit(Math.max, 1, 2), (e) => e instanceof TypeError && /native or bound function/.test(e.message));
    const bound = ((x: number) => x).bind(null);
    await rejectsSoon(p.submit(bound, 1), (e) => e instanceof TypeError && /native or bound function/.test(e.message));
  });

  test("a function of Node's built-in modules fails at submit, naming it and its module", async () => {
    const cases: [(...a: never[]) => unknown, unknown[], string, string][] = [
      [readFileSync as (...a: never[]) => unknown, [fileURLToPath(import.meta.url)], "readFileSync", "node:fs"],
      [pathJoin as (...a: never[]) => unknown, ["a", "b"], "join", "node:path"],
      [fsp.readFile as (...a: never[]) => unknown, ["x"], "readFile", "node:fs/promises"],
      [Buffer.from as (...a: never[]) => unknown, ["x"], "from", "node:buffer"],
    ];
    for (const [fn, args, name, mod] of cases) {
      const f = p.submit(fn, ...(args as never[]));
      await rejectsSoon(f, (e) => e instanceof TypeError && e.message.includes(`${name} is a function of Node's built-in module "${mod}"`) && /workerModule\(\)/.test(e.message));
    }
    // A function of the program's own, sent by source, still runs.
    assert.equal(await p.submit((x: number) => x + 1, 1), 2);
  });

  test("fn that is not a function throws TypeError at the call", () => {
    assert.throws(() => p.submit(42 as unknown as () => void), /submit: `fn` must be a worker function/);
    assert.throws(() => p.submitWith(null as unknown as object, jobs.fns.inc, 1), TypeError);
  });
});

describe("options", () => {
  test("maxWorkers < 1 or not an integer: RangeError; not a number: TypeError", () => {
    for (const bad of [0, -1, 1.5, NaN, Infinity]) assert.throws(() => new ThreadPoolExecutor({ maxWorkers: bad }), RangeError, String(bad));
    assert.throws(() => new ProcessPoolExecutor({ maxWorkers: 0 }), RangeError);
    assert.throws(() => new ThreadPoolExecutor({ maxWorkers: "2" as unknown as number }), TypeError);
  });

  test("other options are checked", () => {
    assert.throws(() => new ThreadPoolExecutor(null as unknown as object), TypeError);
    assert.throws(() => new ThreadPoolExecutor({ timeout: -1 }), RangeError);
    assert.throws(() => new ThreadPoolExecutor({ cancelGracePeriod: "1" as unknown as number }), TypeError);
    assert.throws(() => new ThreadPoolExecutor({ maxTasksPerWorker: 0 }), RangeError);
    assert.throws(() => new ThreadPoolExecutor({ maxHeapUsed: 0 }), RangeError);
    assert.throws(() => new ThreadPoolExecutor({ initargs: 5 as unknown as unknown[] }), TypeError);
    assert.throws(() => new ThreadPoolExecutor({ initializer: 5 as unknown as () => void }), TypeError);
    const missing = workerModule<{ f(): void }>(new URL("./no-such-module.js", import.meta.url));
    assert.throws(() => new ThreadPoolExecutor({ initializer: missing.fns.f }), /cannot find worker module/);
    assert.throws(() => workerModule("./relative.js"), /must be a URL or an absolute path/);
    assert.throws(() => p.submitWith({ timeout: -5 }, jobs.fns.inc, 1), RangeError);
  });
});

describe("state", () => {
  test("submitting after shutdown: InvalidStateError saying so", async () => {
    const q = new ThreadPoolExecutor({ maxWorkers: 1 });
    await q.shutdown();
    assert.throws(() => q.submit(jobs.fns.inc, 1), (e: unknown) => e instanceof InvalidStateError && /is shut down/.test(e.message));
    assert.throws(() => q.map(jobs.fns.inc, [1]), InvalidStateError);
  });

  test("an initializer that fails breaks the executor: pending and later jobs get BrokenExecutorError", async () => {
    const q = new ThreadPoolExecutor({ maxWorkers: 2, initializer: jobs.fns.badSetup });
    const futs = [q.submit(jobs.fns.inc, 1), q.submit(jobs.fns.inc, 2), q.submit(jobs.fns.inc, 3)];
    for (const f of futs) await rejectsSoon(f, (e) => e instanceof BrokenExecutorError && /initializer failed.*initializer exploded/.test(e.message));
    assert.throws(() => q.submit(jobs.fns.inc, 1), BrokenExecutorError);
    await q.shutdown();
  });

  test("workers that die before they are ready break the executor instead of respawning forever", async () => {
    const q = new ThreadPoolExecutor({ maxWorkers: 1, initializer: jobs.fns.exitNow, initargs: [1] });
    await rejectsSoon(q.submit(jobs.fns.inc, 1), (e) => e instanceof BrokenExecutorError && /workers fail to start \(3 in a row; last: worker thread #3 exited with code 1\)/.test(e.message));
    await q.shutdown();
  });

  test("a worker that cannot even be created breaks the executor", async () => {
    const q = new ThreadPoolExecutor({ maxWorkers: 1, execArgv: ["--no-such-node-option"] });
    await rejectsSoon(q.submit(jobs.fns.inc, 1), (e) => e instanceof BrokenExecutorError && /cannot start a worker/.test(e.message));
    await q.shutdown();
  });
});
