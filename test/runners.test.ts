import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import {
  CancelledError,
  createTask,
  DeadlockError,
  Future,
  getRunningLoop,
  KeyboardInterrupt,
  run,
  Runner,
  sleep,
} from "../src/index.js";
import { runVirtual } from "../src/testing.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures");

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a fixture; `onLine` may react to stdout lines (e.g. send SIGINT when "ready" appears). */
function runFixture(name: string, args: string[] = [], onLine?: (line: string, child: ReturnType<typeof spawn>) => void): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ["--import", "tsx", join(fixtures, name), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
      if (onLine) for (const line of d.split("\n")) if (line) onLine(line, child);
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

test("SIGINT cancels the main task, its finally blocks run, and the process exits with 130", async () => {
  const r = await runFixture("sigint.ts", [], (line, child) => {
    if (line === "ready") child.kill("SIGINT");
  });
  assert.equal(r.code, 130, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n"), ["ready", "cleanup"]);
});

test("a second SIGINT exits at once even if cleanup hangs", async () => {
  const r = await runFixture("sigint.ts", ["stuck"], (line, child) => {
    if (line === "ready") child.kill("SIGINT");
    if (line === "cleanup") setTimeout(() => child.kill("SIGINT"), 50);
  });
  assert.equal(r.code, 130, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n"), ["ready", "cleanup"]);
});

test("a program that can make no progress fails with DeadlockError naming the waiting tasks", async () => {
  const r = await runFixture("deadlock.ts");
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /DeadlockError: deadlock/);
  assert.match(r.stderr, /"main" waits on <Future pending/);
  assert.match(r.stderr, /"helper" waits on <Future pending/);
});

test("leftover tasks are cancelled at exit, unretrieved errors are reported by name, and the process exits by itself", async () => {
  const r = await runFixture("leftovers.ts");
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n"), ["leftover cancelled", "main done"]);
  assert.match(r.stderr, /Task exception was never retrieved/);
  assert.match(r.stderr, /worker-3/);
  assert.match(r.stderr, /nobody looked/);
  assert.ok(r.ms < 20_000);
});

test("run returns main's value, rethrows main's error, and validates its argument", async () => {
  assert.equal(await run(() => 5), 5);
  await assert.rejects(
    run(async () => {
      throw new RangeError("main failed");
    }),
    RangeError,
  );
  // @ts-expect-error: a promise is not a function
  await assert.rejects(run(Promise.resolve(1)), { name: "TypeError", message: /run: `main`/ });
});

test("at exit leftover tasks are cancelled and awaited, their finally blocks run", async () => {
  const events: string[] = [];
  await runVirtual(async () => {
    createTask(async () => {
      try {
        await sleep(1000);
      } finally {
        await sleep(5); // cleanup may await
        events.push(`cleaned at ${getRunningLoop().time()}`);
      }
    });
    await sleep(1);
  });
  assert.deepEqual(events, ["cleaned at 6"]);
});

test("virtual-clock deadlock rejects at once with the waiting tasks named, after cancelling main", async () => {
  let cleaned = false;
  const err = await runVirtual(async () => {
    createTask(() => new Future<void>(), { name: "stuck-helper" });
    try {
      await new Future<void>();
    } finally {
      cleaned = true;
    }
  }).catch((e: unknown) => e);
  assert.ok(err instanceof DeadlockError);
  assert.match(err.message, /deadlock/);
  assert.match(err.message, /"main" waits on/);
  assert.match(err.message, /"stuck-helper" waits on/);
  assert.equal(cleaned, true);
});

test("Runner runs several mains on one loop and closes it; usable with await using", async () => {
  const runner = new Runner({ clock: "virtual" });
  assert.equal(await runner.run(() => sleep(1000, "a")), "a");
  assert.equal(await runner.run(() => sleep(1000, "b")), "b");
  assert.equal(runner.getLoop().time(), 2000);
  assert.match(inspect(runner), /^<Runner idle <Loop/);
  await runner.close();
  assert.throws(() => runner.getLoop(), { name: "InvalidStateError" });
  {
    await using r2 = new Runner({ clock: "virtual" });
    assert.equal(await r2.run(() => 1), 1);
  }
});

test("SIGINT in-process: main is cancelled and run rejects with KeyboardInterrupt when exitOnSigint is false", async () => {
  let cleaned = false;
  const p = run(
    async () => {
      try {
        await sleep(60_000);
      } finally {
        cleaned = true;
      }
    },
    { exitOnSigint: false },
  );
  setTimeout(() => process.emit("SIGINT"), 20);
  await assert.rejects(p, (e: unknown) => e instanceof KeyboardInterrupt && (e.cause as unknown) instanceof CancelledError);
  assert.equal(cleaned, true);
  assert.equal(process.listenerCount("SIGINT"), 0);
});

test("virtual clock: no false deadlock while a continuation is still queued as a microtask", async () => {
  const r = await runVirtual(async () => {
    const loop = getRunningLoop();
    const f1 = new Future<number>();
    const f2 = new Future<number>();
    const p1 = f1.then((v) => v, (e: unknown) => e);
    const p2 = f2.then((v) => v, (e: unknown) => e);
    loop.callLater(5, () => f1.setResult(1));
    await p1;
    f2.setResult(2);
    return await p2;
  });
  assert.equal(r, 2);
});
