// The threading examples (examples/threading/: Python's classic counter and producer/consumer
// programs, ported) run as a user runs them — `tsx examples/threading/<name>.ts` in a fresh process,
// importing "tsaio" as a package — and print exact, checked results.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runExample(name: string): Promise<Run> {
  const script = fileURLToPath(new URL(`../examples/threading/${name}`, import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const killer = setTimeout(() => child.kill("SIGKILL"), 120_000); // a hang fails the test instead of holding it
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

// Both at once: most of their time is starting threads that load TypeScript.
const counter = runExample("counter.ts");
const producerConsumer = runExample("producer-consumer.ts");

test("counter.ts: 4 jobs x 100000 increments under one Lock give exactly 400000, and the program exits by itself", async () => {
  const r = await counter;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  assert.match(r.stdout, /^4 jobs x 100000 increments under one Lock, in [1-4] threads: counter = 400000\n$/);
});

test("producer-consumer.ts: every one of the 150 items is consumed exactly once; the consumers end at shutdown", async () => {
  const r = await producerConsumer;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  const m = /^3 producers put 150 items; 2 consumers took (\d+) \+ (\d+)\nevery one of the 150 items consumed exactly once\n$/.exec(r.stdout);
  assert.ok(m !== null, r.stdout);
  assert.equal(Number(m[1]) + Number(m[2]), 150);
});
