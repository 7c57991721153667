/**
 * Subprocesses: asyncio's API (pipes, DEVNULL, STDOUT, returncode, signals, communicate), the hard
 * children (one that ignores SIGTERM, one that fills 10 MB of stdout before reading its stdin, one
 * that exits while we write), tsaio's stop on a cancelled wait (SIGTERM, SIGKILL after the grace
 * period, the process group with it), and no zombie or orphan left (checked with `ps`).
 */
import assert from "node:assert/strict";
import { execFileSync, execFile } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { inspect } from "node:util";
import {
  CancelledError,
  createSubprocessExec,
  createSubprocessShell,
  createTask,
  DEVNULL,
  gather,
  InvalidStateError,
  PIPE,
  run,
  sleep,
  STDOUT,
  timeout,
  TimeoutError,
} from "../src/index.js";

const inLoop = <T>(fn: () => Promise<T>): Promise<T> => run(fn, { handleSigint: false });
const tmp = mkdtempSync(join(tmpdir(), "tsaio-subprocess-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** This process's children as `ps` sees them: pid and state (Z: a zombie). */
function children(): { pid: number; stat: string; cmd: string }[] {
  const out = execFileSync("ps", ["-o", "pid=,stat=,args=", "--ppid", String(process.pid)], { encoding: "utf8" }).trim();
  return out === ""
    ? []
    : out.split("\n").map((l) => {
        const [pid, stat, ...cmd] = l.trim().split(/\s+/);
        return { pid: Number(pid), stat: stat!, cmd: cmd.join(" ") };
      });
}

/**
 * Processes of the process group `pgid` still running. Dead ones are left out: a grandchild
 * orphaned by the shell's exit is reaped by PID 1, which may take its time (seconds in some
 * containers) — it is dead, and not ours to reap.
 */
function groupMembers(pgid: number): number[] {
  let out: string;
  try {
    out = execFileSync("ps", ["-o", "pid=,stat=", "-g", String(pgid)], { encoding: "utf8" });
  } catch {
    return []; // ps exits 1 when nothing matches
  }
  return out
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => l.trim().split(/\s+/))
    .filter(([, stat]) => !stat!.startsWith("Z"))
    .map(([pid]) => Number(pid));
}

function assertNoZombie(): void {
  const z = children().filter((c) => c.stat.startsWith("Z"));
  assert.deepEqual(z, [], "no zombie child");
}

test("pipes: communicate() collects stdout and stderr; returncode; DEVNULL; inherit gives no stream", async () => {
  await inLoop(async () => {
    const p = await createSubprocessShell("echo out; echo err >&2; exit 3", { stdout: PIPE, stderr: PIPE });
    assert.equal(p.returncode, null);
    assert.ok(p.pid > 0);
    const [out, err] = await p.communicate();
    assert.equal(out!.toString(), "out\n");
    assert.equal(err!.toString(), "err\n");
    assert.equal(p.returncode, 3);
    assert.equal(await p.wait(), 3);

    const q = await createSubprocessShell("echo out; echo err >&2", { stdout: PIPE, stderr: DEVNULL });
    assert.deepEqual(
      (await q.communicate()).map((b) => b?.toString() ?? null),
      ["out\n", null],
    );
    const r = await createSubprocessExec("true");
    assert.equal(r.stdin, null);
    assert.equal(r.stdout, null);
    assert.equal(r.stderr, null);
    assert.equal(await r.wait(), 0);
    const z = await createSubprocessExec("cat", [], { stdin: DEVNULL, stdout: PIPE });
    assert.equal((await z.stdout!.read()).length, 0);
    assert.equal(await z.wait(), 0);
  });
});

test("STDOUT: stderr merged into the stdout pipe, in order (exec and shell); into a file descriptor", async () => {
  await inLoop(async () => {
    const p = await createSubprocessExec("sh", ["-c", "echo 1; echo 2 >&2; echo 3; echo 4 >&2"], { stdout: PIPE, stderr: STDOUT });
    const [out, err] = await p.communicate();
    assert.equal(out!.toString(), "1\n2\n3\n4\n");
    assert.equal(err, null);
    const q = await createSubprocessShell("echo a; echo b >&2", { stdout: PIPE, stderr: STDOUT });
    assert.equal((await q.communicate())[0]!.toString(), "a\nb\n");
    const file = join(tmp, "out.txt");
    const fd = openSync(file, "w");
    const f = await createSubprocessShell("echo to-file; echo err-to-file >&2", { stdout: fd, stderr: STDOUT });
    assert.equal(await f.wait(), 0);
    closeSync(fd);
    assert.equal(readFileSync(file, "utf8"), "to-file\nerr-to-file\n");
  });
});

test("an interactive child: lines written to stdin come back from stdout, in a loop; EOF when stdin closes", async () => {
  await inLoop(async () => {
    await using cat = await createSubprocessExec("cat", [], { stdin: PIPE, stdout: PIPE });
    for (let i = 0; i < 50; i++) {
      cat.stdin!.write(`line ${i}\n`);
      await cat.stdin!.drain();
      assert.equal((await cat.stdout!.readline()).toString(), `line ${i}\n`);
    }
    cat.stdin!.close();
    await cat.stdin!.waitClosed();
    assert.equal((await cat.stdout!.read()).length, 0);
    assert.equal(await cat.wait(), 0);
    assert.match(inspect(cat), /^<Subprocess pid=\d+ returncode=0 "cat">$/);
  });
});

test("a child that fills 10 MB of stdout before reading its stdin: communicate(input) does not deadlock", async () => {
  await inLoop(async () => {
    const p = await createSubprocessShell("head -c 10000000 /dev/zero; cat", { stdin: PIPE, stdout: PIPE });
    const input = Buffer.alloc(1_000_000, 97);
    const [out] = await p.communicate(input);
    assert.equal(out!.length, 11_000_000);
    assert.equal(out!.subarray(10_000_000).toString(), input.toString());
    assert.equal(p.returncode, 0);
  });
});

test("a child that exits while we write: drain() fails with EPIPE (no crash); communicate() ignores it", async () => {
  await inLoop(async () => {
    const p = await createSubprocessShell("head -c 1 >/dev/null", { stdin: PIPE });
    const chunk = Buffer.alloc(1 << 20);
    const err = await (async () => {
      for (let i = 0; i < 64; i++) {
        p.stdin!.write(chunk);
        await p.stdin!.drain();
      }
      return null;
    })().catch((e: unknown) => e);
    assert.ok(err !== null, "drain() failed");
    assert.ok(["EPIPE", "ECONNRESET"].includes((err as NodeJS.ErrnoException).code!), String(err));
    assert.equal(await p.wait(), 0);

    const q = await createSubprocessShell("head -c 1 >/dev/null; echo done", { stdin: PIPE, stdout: PIPE });
    const [out] = await q.communicate(Buffer.alloc(20 << 20));
    assert.equal(out!.toString(), "done\n");
    assert.equal(q.returncode, 0);
  });
});

test("returncode is -N when signal N ended the child; terminate(), kill(), sendSignal()", async () => {
  await inLoop(async () => {
    const a = await createSubprocessExec("sleep", ["30"]);
    a.terminate();
    assert.equal(await a.wait(), -15);
    const b = await createSubprocessExec("sleep", ["30"]);
    b.kill();
    assert.equal(await b.wait(), -9);
    const c = await createSubprocessShell("trap 'echo got USR1; exit 7' USR1; echo ready; while :; do sleep 0.05; done", { stdout: PIPE });
    assert.equal((await c.stdout!.readline()).toString(), "ready\n");
    c.sendSignal("SIGUSR1");
    assert.equal((await c.stdout!.readline()).toString(), "got USR1\n");
    assert.equal(await c.wait(), 7);
    c.kill(); // after the exit: nothing happens
    c.sendSignal(15);
  });
});

test("a cancelled wait() stops the child: SIGTERM, then SIGKILL after the grace period for one that ignores SIGTERM; no zombie", async () => {
  await inLoop(async () => {
    const p = await createSubprocessShell("trap '' TERM; echo ready; exec sleep 30", { stdout: PIPE, gracePeriod: 300 });
    assert.equal((await p.stdout!.readline()).toString(), "ready\n");
    const t0 = performance.now();
    await assert.rejects(
      timeout(100, () => p.wait()),
      TimeoutError,
    );
    const ms = performance.now() - t0;
    assert.ok(ms >= 350 && ms < 5000, `stopped after ${ms.toFixed(0)} ms (timeout 100 + grace 300)`);
    assert.equal(p.returncode, -9, "SIGKILL ended it");
    assert.equal(alive(p.pid), false);

    const q = await createSubprocessExec("sleep", ["30"]);
    const t = createTask(() => q.wait());
    await sleep(20);
    t.cancel();
    await assert.rejects(t, CancelledError);
    assert.equal(q.returncode, -15, "SIGTERM was enough");
    assertNoZombie();
  });
});

test("timeout() around communicate() stops the child; signal aborts a wait the same way; killOnCancel: false leaves it running", async () => {
  await inLoop(async () => {
    const p = await createSubprocessShell("echo partial; exec sleep 30", { stdout: PIPE, stdin: PIPE });
    await assert.rejects(
      timeout(100, () => p.communicate("input")),
      TimeoutError,
    );
    assert.equal(p.returncode, -15);

    const q = await createSubprocessExec("sleep", ["30"]);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(q.wait({ signal: ac.signal }), CancelledError);
    assert.equal(q.returncode, -15);

    const r = await createSubprocessExec("sleep", ["30"], { killOnCancel: false });
    await assert.rejects(
      timeout(50, () => r.wait()),
      TimeoutError,
    );
    assert.equal(r.returncode, null);
    assert.equal(alive(r.pid), true, "asyncio's behaviour: the child runs on");
    r.kill();
    assert.equal(await r.wait(), -9);
  });
});

test("killProcessGroup: a cancelled wait stops the shell's children too, even those that ignore SIGTERM", async () => {
  await inLoop(async () => {
    const p = await createSubprocessShell("sleep 30 & (trap '' TERM; exec sleep 31) & echo started; wait", {
      stdout: PIPE,
      killProcessGroup: true,
      gracePeriod: 300,
    });
    assert.equal((await p.stdout!.readline()).toString(), "started\n");
    await sleep(50);
    assert.ok(groupMembers(p.pid).length >= 3, `the group: ${groupMembers(p.pid).join(",")}`);
    await assert.rejects(
      timeout(50, () => p.wait()),
      TimeoutError,
    );
    for (let i = 0; i < 100 && groupMembers(p.pid).length > 0; i++) await sleep(20);
    assert.deepEqual(groupMembers(p.pid), [], "nobody of the group is left");
    assertNoZombie();
  });
});

test("`await using proc` stops a child that still runs and closes its pipes; concurrent wait()s see the same code", async () => {
  await inLoop(async () => {
    let pid = 0;
    {
      await using p = await createSubprocessExec("sleep", ["30"], { stdout: PIPE });
      pid = p.pid;
    }
    assert.equal(alive(pid), false);
    const q = await createSubprocessShell("sleep 0.05; exit 4");
    assert.deepEqual(await gather([() => q.wait(), () => q.wait(), () => q.wait()]), [4, 4, 4]);
  });
});

test("start errors keep Node's codes (ENOENT, EACCES); a start cancelled at once leaves no child", async () => {
  await inLoop(async () => {
    await assert.rejects(createSubprocessExec("/nonexistent/program"), (e: unknown) => (e as NodeJS.ErrnoException).code === "ENOENT");
    const script = join(tmp, "not-executable.sh");
    writeFileSync(script, "#!/bin/sh\necho hi\n");
    chmodSync(script, 0o644);
    await assert.rejects(createSubprocessExec(script), (e: unknown) => (e as NodeJS.ErrnoException).code === "EACCES");
    const before = children().length;
    const t = createTask(() => createSubprocessExec("sleep", ["30"]));
    await sleep(0);
    t.cancel();
    await assert.rejects(t, CancelledError);
    for (let i = 0; i < 100 && children().length > before; i++) await sleep(10);
    assert.equal(children().filter((c) => c.cmd.startsWith("sleep 30")).length, 0, "the child was killed and reaped");
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(createSubprocessExec("true", [], { signal: ac.signal }), CancelledError);
  });
});

test("communicate(input) without a stdin pipe is an InvalidStateError; bad input is a TypeError/RangeError naming the argument", async () => {
  await inLoop(async () => {
    const p = await createSubprocessExec("true", [], { stdout: PIPE });
    await assert.rejects(p.communicate("x"), InvalidStateError);
    await p.wait();
    const cases: [() => Promise<unknown>, ErrorConstructor, RegExp][] = [
      [() => createSubprocessExec(5 as unknown as string), TypeError, /`program`/],
      [() => createSubprocessExec(""), RangeError, /`program`/],
      [() => createSubprocessExec("true", "x" as unknown as string[]), TypeError, /`args`/],
      [() => createSubprocessExec("true", [1 as unknown as string]), TypeError, /`args`/],
      [() => createSubprocessExec("true", [], { stdout: -7 as typeof PIPE }), RangeError, /`stdout`/],
      [() => createSubprocessExec("true", [], { stdin: STDOUT as unknown as typeof PIPE }), RangeError, /`stdin`/],
      [() => createSubprocessExec("true", [], { stderr: "file" as unknown as typeof PIPE }), TypeError, /`stderr`/],
      [() => createSubprocessExec("true", [], { gracePeriod: -1 }), RangeError, /`gracePeriod`/],
      [() => createSubprocessExec("true", [], { limit: 0 }), RangeError, /`limit`/],
      [() => createSubprocessExec("true", [], { killProcessGroup: "yes" as unknown as boolean }), TypeError, /`killProcessGroup`/],
      [() => createSubprocessExec("true", [], { env: 5 as unknown as NodeJS.ProcessEnv }), TypeError, /`env`/],
      [() => createSubprocessShell(5 as unknown as string), TypeError, /`cmd`/],
      [() => p.communicate(5 as unknown as string), TypeError, /`input`/],
    ];
    for (const [call, type, re] of cases) await assert.rejects(call, (e: unknown) => e instanceof type && re.test((e as Error).message), String(call));
    assert.throws(() => p.sendSignal("SIGNOPE" as NodeJS.Signals), (e: unknown) => e instanceof RangeError && /`sig`/.test((e as Error).message));
    assert.throws(() => p.sendSignal({} as unknown as number), TypeError);
  });
});

test("no zombie and no orphan after all of the above (ps)", async () => {
  await new Promise<void>((res) => execFile("true", () => res()));
  // (tsx's esbuild service is a child of the test process too: not ours)
  const left = children().filter((c) => !c.cmd.startsWith("ps ") && !c.cmd.includes("esbuild"));
  assert.deepEqual(left, [], "no child left");
});
