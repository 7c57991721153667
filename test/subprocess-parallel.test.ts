/**
 * examples/parallel-commands.ts: statuses and return codes, the per-command deadline (the command's
 * whole process group is stopped), the concurrency bound, and Ctrl-C (the loop's SIGINT handler stops
 * every command, prints the summary, exits 130, leaves no process behind).
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { run } from "../src/index.js";
import { plan, runCommands, summary } from "../examples/parallel-commands.js";

const inLoop = <T>(fn: () => Promise<T>): Promise<T> => run(fn, { handleSigint: false });

/** Running processes whose command line is exactly `args` (dead ones left out). */
function running(args: string): number {
  const out = execFileSync("ps", ["-eo", "stat=,args="], { encoding: "utf8" });
  return out.split("\n").filter((l) => {
    const m = /^\s*(\S+)\s+(.*)$/.exec(l);
    return m !== null && !m[1]!.startsWith("Z") && m[2] === args;
  }).length;
}

test("runCommands: ok, failed with its code, timed out (its children too), output lines by command", async () => {
  const lines: string[] = [];
  const results = plan(["echo one; echo two >&2", "exit 3", "sleep 30.111 & sleep 30.222; wait", "echo last"]);
  await inLoop(() => runCommands(results, { jobs: 2, timeout: 300, gracePeriod: 200, onLine: (i, s, l) => lines.push(`${i}.${s} ${l}`) }));
  assert.deepEqual(
    results.map((r) => [r.status, r.returncode]),
    [
      ["ok", 0],
      ["failed", 3],
      ["timed out", -15],
      ["ok", 0],
    ],
  );
  assert.deepEqual(lines.sort(), ["1.1 one", "1.2 two", "4.1 last"]);
  assert.equal(running("sleep 30.111") + running("sleep 30.222"), 0, "the timed-out command's children were stopped too");
  assert.match(summary(results), /2 ok, 1 failed, 1 timed out, 0 interrupted, 0 not started$/);
});

test("runCommands: at most `jobs` commands at once", async () => {
  let now = 0;
  let max = 0;
  const results = plan(Array.from({ length: 6 }, () => "echo start; sleep 0.1; echo end"));
  await inLoop(() =>
    runCommands(results, {
      jobs: 2,
      onLine: (_i, _s, l) => {
        now += l === "start" ? 1 : -1;
        max = Math.max(max, now);
      },
    }),
  );
  assert.equal(max, 2);
  assert.ok(results.every((r) => r.status === "ok"));
});

test("Ctrl-C: every command is stopped, the summary says what was interrupted, the exit code is 130, nothing is left running", async () => {
  const script = fileURLToPath(new URL("../examples/parallel-commands.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", script, "--jobs", "2", "sleep 31.333", "echo quick; exec sleep 31.444", "echo never started"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => {
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("[2] quick") && !child.killed) setTimeout(() => child.kill("SIGINT"), 100);
    });
    child.on("close", (c) => resolve(c));
    setTimeout(() => child.kill("SIGKILL"), 30_000).unref();
  });
  assert.equal(code, 130, err);
  assert.match(err, /interrupted: stopping the commands/);
  assert.match(out, /1 {2}interrupted\s+-15 .* sleep 31\.333/);
  assert.match(out, /2 {2}interrupted\s+-15 .* echo quick; exec sleep 31\.444/);
  assert.match(out, /3 {2}waiting .* echo never started/);
  assert.match(out, /0 ok, 0 failed, 0 timed out, 2 interrupted, 1 not started/);
  assert.equal(running("sleep 31.333") + running("sleep 31.444"), 0);
});
