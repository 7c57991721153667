/**
 * tsaio/multiprocessing's Process: exit codes (0, 1, a process.exit code, -15, -9), join with a
 * timeout, a signal and a cancelled task, async targets, arguments with wire forms, bad input, the
 * parent's program and its children (daemon or not), and a child never outliving its parent.
 * Process start-up under tsx costs ~0.5 s of CPU: children are started side by side where possible.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { inspect } from "node:util";
import { CancelledError, InvalidStateError, run, workerModule, createTask, sleep } from "../../src/index.js";
import { Process } from "../../src/multiprocessing/process.js";
import { Pipe } from "../../src/multiprocessing/connection.js";
import { Lock } from "../../src/threading/lock.js";
import { runFixture } from "../fixtures/run-fixture.js";
import { Token } from "./fixtures/process-wired.js";

const jobs = workerModule<typeof import("./fixtures/process-jobs.js")>(new URL("./fixtures/process-jobs.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "tsaio-process-"));
after(() => rmSync(dir, { recursive: true, force: true }));

// Programs of their own, started now so that their start-up overlaps the tests below, which await them.
let orphanPid = 0;
const fixtures = {
  exits: runFixture("../multiprocessing/fixtures/process-exits.ts", [join(dir, "exits.txt")]),
  orphan: runFixture("../multiprocessing/fixtures/process-orphan.ts", [], {
    onLine: (line, child) => {
      const m = /^child (\d+)$/.exec(line);
      if (m !== null) {
        orphanPid = Number(m[1]);
        // Let the child enter its loop, then kill the parent without a word.
        setTimeout(() => child.kill("SIGKILL"), 300);
      }
    },
  }),
  recursive: runFixture("../multiprocessing/fixtures/process-recursive.ts"),
};
for (const r of Object.values(fixtures)) r.catch(() => {}); // awaited (failures reported) by their tests

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number, withinMs: number): Promise<boolean> {
  const end = Date.now() + withinMs;
  while (Date.now() < end) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return !alive(pid);
}

test("exit codes: 0 with the arguments given, async target awaited, process.exit code, leftover timers, wire forms revived", async () => {
  const f1 = join(dir, "later.txt");
  const f2 = join(dir, "tokens.json");
  const asyncOne = new Process({ target: jobs.fns.later, args: [30, f1, "from the child"], name: "async-one" });
  const exits3 = new Process({ target: jobs.fns.exitWith, args: [3] });
  const timer = new Process({ target: jobs.fns.leaveTimer });
  const wired = new Process({ target: jobs.fns.tokens, args: [f2, new Token(1), [new Token(2), { t: new Token(3), x: 4 }], new Map([["k", new Token(5)]]), "plain"] });
  const [here, there] = Pipe<string>();
  const piped = new Process({ target: jobs.fns.greet, args: [there] });
  const all = [asyncOne, exits3, timer, wired, piped];
  assert.match(inspect(asyncOne), /^<Process name='async-one' parent=\d+ initial>$/);
  assert.equal(asyncOne.pid, null);
  assert.equal(asyncOne.exitCode, null);
  for (const p of all) p.start();
  assert.equal(typeof asyncOne.pid, "number");
  assert.equal(asyncOne.isAlive(), true);
  assert.match(inspect(asyncOne), new RegExp(`^<Process name='async-one' pid=${asyncOne.pid} parent=${process.pid} started>$`));
  // A Pipe end given to a Process works there (it moved: closed here).
  assert.equal(there.closed, true);
  assert.equal(await here.recv(), `hello from ${piped.pid}`);
  await here.send("hi");
  assert.equal(await here.recv(), "got hi");
  here.close();
  const codes = await Promise.all(all.map((p) => p.join()));
  assert.deepEqual(codes, [0, 3, 0, 0, 0]);
  assert.equal(readFileSync(f1, "utf8"), "from the child", "the async target ran to its end before the child exited");
  assert.deepEqual(JSON.parse(readFileSync(f2, "utf8")), ["Token(1)", ["Token(2)", { t: "Token(3)", x: 4 }], [["k", "Token(5)"]], "plain"]);
  assert.equal(asyncOne.isAlive(), false);
  assert.equal(asyncOne.exitCode, 0);
  assert.match(inspect(asyncOne), /stopped exitcode=0>$/);
  assert.match(inspect(exits3), /stopped exitcode=3>$/);
  assert.equal(await asyncOne.join(), 0, "join after the exit returns at once");
  asyncOne.close();
  assert.match(inspect(asyncOne), /^<Process name='async-one' closed>$/);
  assert.throws(() => asyncOne.isAlive(), InvalidStateError);
  assert.throws(() => asyncOne.join(), InvalidStateError);
  assert.equal(asyncOne.exitCode, 0);
});

test("join: timeout returns null, aborted signal and cancelled task raise CancelledError and leave the child running; terminate gives -15, kill -9", async () => {
  const spinner = new Process({ target: jobs.fns.spin, args: [60_000] });
  const sleeper = new Process({ target: jobs.fns.pidThenSleep, args: [join(dir, "pids"), 60_000] });
  spinner.start();
  sleeper.start();
  assert.equal(await spinner.join(30), null);
  assert.equal(await spinner.join({ timeout: 0 }), null);
  const ac = new AbortController();
  const joined = spinner.join({ signal: ac.signal });
  setTimeout(() => ac.abort(), 20);
  await assert.rejects(joined, CancelledError);
  await assert.rejects(spinner.join({ signal: ac.signal }), CancelledError, "an aborted signal at the call");
  await run(async () => {
    const t = createTask(() => spinner.join());
    await sleep(20);
    t.cancel();
    await assert.rejects(t, CancelledError);
  });
  assert.equal(spinner.isAlive(), true);
  assert.match(inspect(spinner), /started>$/);
  const both = Promise.all([spinner.join(), spinner.join()]);
  await new Promise((r) => setTimeout(r, 5));
  assert.match(inspect(spinner), /joiners=2>$/);
  assert.throws(() => spinner.close(), InvalidStateError, "close() while it runs");
  spinner.terminate();
  sleeper.kill();
  assert.deepEqual(await both, [-15, -15]);
  assert.equal(await sleeper.join(), -9);
  assert.equal(spinner.exitCode, -15);
  spinner.terminate(); // exited already: nothing happens (as Python)
  spinner.kill();
  spinner.close();
  sleeper.close();
});

test("await using kills a child that still runs and waits for it", async () => {
  let outer: Process<[number]>;
  {
    await using p = new Process({ target: jobs.fns.spin, args: [60_000] });
    outer = p;
    p.start();
    assert.equal(p.isAlive(), true);
  }
  assert.equal(outer.exitCode, -9);
  assert.match(inspect(outer), /closed>$/);
  assert.equal(outer.pid !== null && alive(outer.pid), false);
});

test("bad input: TypeError/RangeError naming the argument; a process starts once; join before start", () => {
  // @ts-expect-error a missing target
  assert.throws(() => new Process({}), { name: "TypeError", message: /Process: `target` must be a worker function/ });
  // @ts-expect-error not an object
  assert.throws(() => new Process(null), { name: "TypeError", message: /`options`/ });
  // @ts-expect-error args must match the target's parameters
  assert.throws(() => new Process({ target: jobs.fns.exitWith, args: 3 }), { name: "TypeError", message: /`args` must be an array/ });
  // @ts-expect-error the name is a string
  assert.throws(() => new Process({ target: jobs.fns.ok, name: 5 }), { name: "TypeError", message: /`name`/ });
  // @ts-expect-error daemon is a boolean
  assert.throws(() => new Process({ target: jobs.fns.ok, daemon: "yes" }), { name: "TypeError", message: /`daemon`/ });
  assert.throws(() => new Process({ target: Math.max }), { name: "TypeError", message: /native or bound/ });
  const missing = workerModule<{ nope(): void }>(new URL("./fixtures/process-nope.js", import.meta.url));
  assert.throws(() => new Process({ target: missing.fns.nope }), /cannot find worker module/);
  const p = new Process({ target: jobs.fns.ok });
  assert.throws(() => p.join(), InvalidStateError, "join before start");
  assert.throws(() => p.terminate(), InvalidStateError);
  assert.throws(() => p.join(-1), { name: "RangeError", message: /Process\.join: `timeout` must be >= 0/ });
  // @ts-expect-error a string timeout
  assert.throws(() => p.join({ timeout: "1" }), { name: "TypeError", message: /`timeout`/ });
  // @ts-expect-error not a signal
  assert.throws(() => p.join({ signal: {} }), { name: "TypeError", message: /`signal`/ });
  // Arguments that cannot cross: refused at start(), nothing started.
  const fn = new Process({ target: jobs.fns.tokens, args: ["x", () => 1] });
  assert.throws(() => fn.start(), { name: "TypeError", message: /Process\.start: the arguments of Process-\d+ cannot be sent to a process/ });
  assert.equal(fn.pid, null);
  const shared = new Process({ target: jobs.fns.tokens, args: ["x", { lock: new Lock() }] });
  assert.throws(() => shared.start(), { name: "TypeError", message: /Process\.start: a Lock of tsaio\/threading lives in shared memory.*threads only/ });
  assert.equal(shared.pid, null);
  // Types: a target's arguments are checked (compile-time only).
  if (false as boolean) {
    // @ts-expect-error exitWith takes a number
    new Process({ target: jobs.fns.exitWith, args: ["3"] });
    // @ts-expect-error exitWith needs its argument
    new Process({ target: jobs.fns.exitWith });
  }
});

test("start twice is an InvalidStateError; a self-contained function is a target too", async () => {
  const p = new Process({ target: (code: number) => process.exit(code), args: [7] });
  p.start();
  assert.throws(() => p.start(), InvalidStateError);
  assert.equal(await p.join(), 7);
});

test("the parent's program: waits for a non-daemon child, not for a daemon child (which dies with it); a target's error is printed on the child's stderr with exit code 1", async () => {
  const file = join(dir, "exits.txt");
  const out = await fixtures.exits;
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /failing exit 1/);
  assert.match(out.stderr, /^Process failing:\nRangeError: boom in the child\n\s+at fail /m);
  assert.equal(readFileSync(file, "utf8"), "written", "the program waited for its non-daemon child");
  const daemonPid = Number(/daemon (\d+)/.exec(out.stdout)?.[1]);
  assert.ok(daemonPid > 0);
  assert.ok(await gone(daemonPid, 5_000), "the daemon child died with its parent");
  assert.ok(!existsSync(join(dir, "never")));
});

test("a child never outlives its parent, even in a synchronous loop (parent SIGKILLed)", async () => {
  const out = await fixtures.orphan;
  const childPid = orphanPid;
  assert.equal(out.signal, "SIGKILL");
  assert.ok(childPid > 0);
  assert.ok(await gone(childPid, 5_000), "the orphan died");
});

test("no recursive start-up: a target module that starts a Process at its top level fails in the child, which exits with 1", async () => {
  const out = await fixtures.recursive;
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout.trim(), "exit 1");
  assert.match(out.stderr, /Process Process-1:\n[^\n]*Process\.start\(\): an attempt was made to start an executor in a worker process while it was importing the job module/);
});
