import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import dc from "node:diagnostics_channel";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import {
  createTask,
  formatTaskTree,
  Future,
  gather,
  getRunningLoop,
  Loop,
  run,
  sleep,
  taskGroup,
  taskTree,
  type ExceptionContext,
} from "../src/index.js";
import { runVirtual } from "../src/testing.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "src", "cli.ts");

function block(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // a blocking call, on purpose
  }
}

test("debug mode names a task whose step blocks the thread, with where it resumed and suspended", async () => {
  const reports: ExceptionContext[] = [];
  await run(
    async () => {
      getRunningLoop().setExceptionHandler((_l, ctx) => reports.push(ctx));
      getRunningLoop().slowCallbackDuration = 50;
      await createTask(
        async () => {
          await sleep(1);
          block(80);
          await sleep(1);
        },
        { name: "cruncher" },
      );
    },
    { debug: true },
  );
  // Only the cruncher's report is asserted: on a loaded machine other steps may be slow too.
  const slow = reports.filter((r) => /took/.test(r.message) && r.taskName === "cruncher");
  assert.equal(slow.length, 1);
  assert.equal(slow[0]!.taskName, "cruncher");
  assert.match(slow[0]!.message, /^Executing Task "cruncher" took \d+\.\d ms/);
  assert.ok((slow[0]!.duration as number) >= 75); // block() counts in whole Date.now() ms
  assert.match(String(slow[0]!.stack), /resumed at:\n\s+at .*debug\.test\.ts/);
  assert.match(String(slow[0]!.stack), /suspended at:\n\s+at .*debug\.test\.ts/);
});

test("debug mode reports a slow plain callback; with debug off nothing is reported", async () => {
  for (const debug of [true, false]) {
    const reports: string[] = [];
    await run(
      async () => {
        const loop = getRunningLoop();
        loop.setExceptionHandler((_l, ctx) => reports.push(ctx.message));
        loop.slowCallbackDuration = 30;
        loop.callSoon(() => block(50));
        await sleep(0);
        await sleep(0);
      },
      { debug },
    );
    const callbacks = reports.filter((r) => /^Executing a callback took/.test(r));
    if (debug) assert.ok(callbacks.length >= 1, reports.join("; "));
    else assert.equal(reports.length, 0, reports.join("; "));
  }
});

test("TSAIO_DEBUG=1 turns debug mode on for new loops", () => {
  const before = process.env.TSAIO_DEBUG;
  process.env.TSAIO_DEBUG = "1";
  try {
    assert.equal(new Loop().getDebug(), true);
  } finally {
    if (before === undefined) delete process.env.TSAIO_DEBUG;
    else process.env.TSAIO_DEBUG = before;
  }
  assert.equal(new Loop().getDebug(), false);
});

test("debug mode: tasks still pending at close and unretrieved errors are reported with name and creation stack", async () => {
  const reports: ExceptionContext[] = [];
  await runVirtual(
    async () => {
      getRunningLoop().setExceptionHandler((_l, ctx) => reports.push(ctx));
      void createTask(() => sleep(60_000), { name: "abandoned" });
      void createTask(
        async () => {
          throw new Error("lost");
        },
        { name: "failing" },
      );
      await sleep(1);
    },
    { debug: true },
  );
  const pending = reports.find((r) => /still pending when the loop closed/.test(r.message));
  assert.ok(pending);
  assert.equal(pending.taskName, "abandoned");
  assert.match(String(pending.createdAt), /debug\.test\.ts/);
  const lost = reports.find((r) => r.message === "Task exception was never retrieved");
  assert.ok(lost);
  assert.equal(lost.taskName, "failing");
  assert.match(String(lost.createdAt), /debug\.test\.ts/);
});

test("debug mode: a future garbage-collected while pending is reported with its creation stack", async () => {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  const reports: ExceptionContext[] = [];
  await run(
    async () => {
      getRunningLoop().setExceptionHandler((_l, ctx) => reports.push(ctx));
      (() => {
        void new Future<void>(); // dropped while pending
      })();
      for (let i = 0; i < 20 && reports.length === 0; i++) {
        gc();
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    { debug: true },
  );
  const r = reports.find((x) => /garbage-collected while pending/.test(x.message));
  assert.ok(r, "no report");
  assert.match(String(r.createdAt), /debug\.test\.ts/);
});

test("taskTree shows who awaits whom: direct awaits, gather, and task-group children", async () => {
  await runVirtual(async () => {
    const runner = createTask(
      () =>
        taskGroup(async (tg) => {
          void tg.createTask(() => sleep(500), { name: "child-a" });
          void tg.createTask(() => gather([() => sleep(300), () => new Future<void>()]), { name: "child-b" });
          await sleep(1000);
        }),
      { name: "group-runner" },
    );
    const napper = createTask(() => sleep(100), { name: "napper" });
    const waiter = createTask(() => napper, { name: "waiter" });
    await sleep(1);
    const roots = taskTree();
    const byName = new Map<string, (typeof roots)[number]>();
    const walk = (ns: typeof roots): void =>
      ns.forEach((n) => {
        byName.set(n.name, n);
        walk(n.children);
      });
    walk(roots);
    assert.deepEqual(
      byName.get("group-runner")!.children.map((c) => c.name),
      ["child-a", "child-b"],
    );
    assert.equal(byName.get("child-b")!.children.length, 2);
    assert.equal(byName.get("child-b")!.waitingOn, "gather of 2");
    assert.deepEqual(
      byName.get("waiter")!.children.map((c) => c.name),
      ["napper"],
    );
    assert.equal(byName.get("napper")!.waitingOn, "<SleepFuture pending waiters=1 when=100 left=99ms>");
    const text = formatTaskTree();
    assert.match(text, /├── \(T\) group-runner — waiting on <SleepFuture pending waiters=1 when=\d+ left=999ms>\n│ {3}├── \(T\) child-a — waiting on <SleepFuture pending waiters=1 when=\d+ left=499ms>/);
    assert.match(text, /\(T\) waiter — waiting on task "napper"\n.*└── \(T\) napper — waiting on <SleepFuture pending waiters=1 when=100 left=99ms>/);
    runner.cancel();
    waiter.cancel();
    await Promise.allSettled([runner, waiter]);
  });
});

test("diagnostics_channel events: created, started, cancel, finished", async () => {
  const events: string[] = [];
  const on =
    (kind: string) =>
    (m: unknown): void => {
      const msg = m as { task: { name: string }; state?: string };
      if (msg.task.name.startsWith("traced")) events.push(`${kind}:${msg.task.name}${msg.state ? ":" + msg.state : ""}`);
    };
  const subs: [string, (m: unknown) => void][] = [
    ["tsaio:task:created", on("created")],
    ["tsaio:task:started", on("started")],
    ["tsaio:task:cancel", on("cancel")],
    ["tsaio:task:finished", on("finished")],
  ];
  for (const [name, fn] of subs) dc.subscribe(name, fn);
  try {
    await runVirtual(async () => {
      const a = createTask(() => sleep(5, 1), { name: "traced-a" });
      const b = createTask(() => sleep(50), { name: "traced-b" });
      await a;
      b.cancel();
      await Promise.allSettled([b]);
    });
  } finally {
    for (const [name, fn] of subs) dc.unsubscribe(name, fn);
  }
  assert.deepEqual(events, [
    "created:traced-a",
    "created:traced-b",
    "started:traced-a",
    "started:traced-b",
    "finished:traced-a:finished",
    "cancel:traced-b",
    "finished:traced-b:cancelled",
  ]);
});

function cliRun(args: string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof spawnSync> {
  return spawnSync(process.execPath, ["--import", "tsx", cli, ...args], { cwd: root, encoding: "utf8", env: { ...process.env, ...env }, timeout: 30_000 });
}

test("tsaio run: runs the default export, prints its result; --virtual uses the virtual clock", () => {
  const t0 = performance.now();
  const r = cliRun(["run", "test/fixtures/debug/answer.ts", "--virtual"]);
  assert.equal(r.status, 0, String(r.stderr));
  assert.equal(String(r.stdout).trim(), "42");
  assert.ok(performance.now() - t0 < 20_000);
});

test("tsaio run: a missing file or a module without default export is a one-line error, exit 2", () => {
  let r = cliRun(["run", "test/fixtures/debug/missing.ts"]);
  assert.equal(r.status, 2);
  assert.equal(String(r.stderr).trim().split("\n").length, 1);
  assert.match(String(r.stderr), /no such file/);
  r = cliRun(["run", "test/fixtures/debug/nodefault.ts"]);
  assert.equal(r.status, 2);
  assert.match(String(r.stderr), /has no default export/);
  assert.equal(String(r.stderr).trim().split("\n").length, 1);
  r = cliRun(["frobnicate"]);
  assert.equal(r.status, 2);
});

test("tsaio ps of a process that is not a tsaio process answers clearly and quickly", () => {
  const t0 = performance.now();
  const r = cliRun(["ps", String(process.pid)]);
  assert.equal(r.status, 1);
  assert.match(String(r.stderr), /not a tsaio process of yours with introspection on/);
  assert.ok(performance.now() - t0 < 15_000);
  assert.equal(cliRun(["ps", "abc"]).status, 2);
});

test("tsaio pstree of a hung program shows the culprit", async () => {
  const child = spawn(process.execPath, ["--import", "tsx", cli, "run", "test/fixtures/debug/hung.ts", "--introspect"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  try {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("the hung program never got ready")), 20_000);
      child.stdout.setEncoding("utf8").on("data", (d: string) => {
        if (d.includes("ready")) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    await sleep(50); // let main reach its await
    const tree = cliRun(["pstree", String(child.pid)]);
    assert.equal(tree.status, 0, String(tree.stderr));
    assert.match(String(tree.stdout), /\(T\) main — waiting on task "stuck-worker"\n.*└── \(T\) stuck-worker — waiting on <Future pending/);
    const ps = cliRun(["ps", String(child.pid)]);
    assert.match(String(ps.stdout), /stuck-worker\s+pending/);
  } finally {
    child.kill("SIGKILL");
  }
});
