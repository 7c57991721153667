/**
 * Issue 12, part 6: cancellation and deadlines around `fs` streams and `fs/promises`, each with the
 * task's signal, with `cancellable`, and with neither. The slow sources are real: a FIFO (`mkfifo`)
 * fed 1 KiB every 20 ms for 1.5 s by a child process, a FIFO nobody opens for writing until 1.5 s
 * (its `open()` blocks in libuv's thread pool, which no AbortSignal can interrupt), and a source
 * stream that yields a chunk every 20 ms into `stream/promises` `pipeline` to a file.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { closeSync, constants, createReadStream, createWriteStream, mkdtempSync, openSync, rmSync, statSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as nodeDelay } from "node:timers/promises";
import { after, test } from "node:test";
import { CancelledError, cancellable, createTask, currentTask, getRunningLoop, run, sleep, timeout, TimeoutError } from "../src/index.js";
import { since, until, watchProcess } from "./fixtures/foreign/helpers.js";

const watch = watchProcess();
const inLoop = <T>(fn: () => Promise<T>): Promise<T> => run(fn, { handleSigint: false });
const dir = mkdtempSync(join(tmpdir(), "tsaio-foreign-fs-"));
const writers = new Set<ChildProcess>();
const openTimers = new Set<NodeJS.Timeout>();
after(() => {
  for (const w of writers) w.kill("SIGKILL");
  for (const t of openTimers) clearTimeout(t);
  rmSync(dir, { recursive: true, force: true });
});

const CHUNKS = 75; // 1 KiB every 20 ms: 1.5 s in all
let nFifo = 0;
/** A FIFO with a child writing 1 KiB every 20 ms (75 KiB, 1.5 s), which exits on EPIPE if the reader goes. */
function slowFifo(): { path: string; writer: ChildProcess; exited: Promise<number | null> } {
  const path = join(dir, `slow-${++nFifo}`);
  execFileSync("mkfifo", [path]);
  const code =
    `const fs = require("fs"); const fd = fs.openSync(process.argv[1], "w"); let n = 0;` +
    `const t = setInterval(() => { if (n >= ${CHUNKS}) { clearInterval(t); fs.closeSync(fd); return; }` +
    `try { fs.writeSync(fd, Buffer.alloc(1024, 97)); n++; } catch { process.exit(3); } }, 20);`;
  const writer = spawn(process.execPath, ["-e", code, path], { stdio: "ignore" });
  writers.add(writer);
  const exited = new Promise<number | null>((resolve) =>
    writer.on("exit", (c) => {
      writers.delete(writer);
      resolve(c);
    }),
  );
  return { path, writer, exited };
}
/** A FIFO that nobody opens for writing until `ms` from now (then it is opened and closed: EOF). */
function silentFifo(ms = 1500): { path: string; openedAt: () => number | null } {
  const path = join(dir, `silent-${++nFifo}`);
  execFileSync("mkfifo", [path]);
  let openedAt: number | null = null;
  const t = setTimeout(() => {
    openTimers.delete(t);
    openedAt = performance.now();
    try {
      closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK)); // wakes a reader blocked in open()
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENXIO") throw e; // no reader left: nothing to wake
    }
  }, ms);
  openTimers.add(t);
  return { path, openedAt: () => openedAt };
}
/** Reads a stream to its end, counting bytes (no tsaio await inside: a plain foreign promise). */
async function drain(stream: AsyncIterable<Buffer>): Promise<number> {
  let n = 0;
  for await (const chunk of stream) n += chunk.length;
  return n;
}
/** Asserts that `p` rejects with TimeoutError; returns the ms it took from `t0`. */
async function timesOut(p: Promise<unknown>, t0: number): Promise<number> {
  await assert.rejects(p, TimeoutError);
  return since(t0);
}

test("fs stream of a slow FIFO under timeout(300): signal and cancellable stop it on time, neither reads to the end", async () => {
  await inLoop(async () => {
    // The task's signal: the stream is destroyed at the deadline; the writer sees EPIPE.
    const a = slowFifo();
    let ms = await timesOut(timeout(300, () => drain(createReadStream(a.path, { signal: currentTask()!.signal }))), performance.now());
    assert.ok(ms >= 280 && ms < 1400, `signal: TimeoutError before the 1.5 s source ended, after ${ms.toFixed(0)} ms`);
    assert.equal(await a.exited, 3, "the writer lost its reader (EPIPE) before it was done");

    // cancellable: the function form's signal destroys the stream.
    const b = slowFifo();
    ms = await timesOut(timeout(300, () => cancellable((signal) => drain(createReadStream(b.path, { signal })))), performance.now());
    assert.ok(ms >= 280 && ms < 1400, `cancellable: TimeoutError before the 1.5 s source ended, after ${ms.toFixed(0)} ms`);
    assert.equal(await b.exited, 3);

    // Neither: the whole 75 KiB is read (1.5 s), then the TimeoutError the body never saw.
    const c = slowFifo();
    let bytes = 0;
    ms = await timesOut(
      timeout(300, async () => {
        bytes = await drain(createReadStream(c.path));
      }),
      performance.now(),
    );
    assert.equal(bytes, CHUNKS * 1024, "read to the end");
    assert.ok(ms >= 1400, `neither: TimeoutError only at the stream's end, after ${ms.toFixed(0)} ms`);
    assert.equal(await c.exited, 0);
  });
  await watch.check();
});

test("fs stream of a FIFO nobody writes: open() blocks in the thread pool, so only cancellable meets the deadline", async () => {
  await inLoop(async () => {
    // The task's signal is aborted at 300 ms, but a ReadStream waits for its pending open() before it
    // can be destroyed: the AbortError (and so the TimeoutError) comes when the open returns at 1.5 s.
    const a = silentFifo();
    let t0 = performance.now();
    let ms = await timesOut(timeout(300, () => drain(createReadStream(a.path, { signal: currentTask()!.signal }))), t0);
    assert.ok(a.openedAt() !== null && performance.now() >= a.openedAt()!, "signal: raised only once open() returned");
    assert.ok(ms >= 1400, `signal: TimeoutError after ${ms.toFixed(0)} ms`);

    // cancellable raises at the deadline; the stream is abandoned and its AbortError, when open()
    // returns, is observed (watch.check() below fails on an unhandled rejection).
    const b = silentFifo();
    t0 = performance.now();
    ms = await timesOut(timeout(300, () => cancellable((signal) => drain(createReadStream(b.path, { signal })))), t0);
    assert.ok(ms >= 280 && ms < 1400, `cancellable: TimeoutError before the 1.5 s source ended, after ${ms.toFixed(0)} ms`);
    assert.equal(b.openedAt(), null, "raised while open() was still blocked");

    // Neither: EOF at 1.5 s (0 bytes), then TimeoutError.
    const c = silentFifo();
    t0 = performance.now();
    let bytes = -1;
    ms = await timesOut(
      timeout(300, async () => {
        bytes = await drain(createReadStream(c.path));
      }),
      t0,
    );
    assert.equal(bytes, 0);
    assert.ok(ms >= 1400, `neither: TimeoutError after ${ms.toFixed(0)} ms`);
  });
  await until(() => openTimers.size === 0, 3000, "every silent FIFO was opened");
  await watch.check();
});

test("fs/promises readFile(fifo, { signal }) of a slow FIFO: signal and cancellable on time, neither at EOF", async () => {
  await inLoop(async () => {
    const a = slowFifo();
    let ms = await timesOut(timeout(300, () => readFile(a.path, { signal: currentTask()!.signal })), performance.now());
    assert.ok(ms >= 280 && ms < 1400, `signal: TimeoutError before the 1.5 s source ended, after ${ms.toFixed(0)} ms`);
    assert.equal(await a.exited, 3);

    const b = slowFifo();
    ms = await timesOut(timeout(300, () => cancellable((signal) => readFile(b.path, { signal }))), performance.now());
    assert.ok(ms >= 280 && ms < 1400, `cancellable: TimeoutError before the 1.5 s source ended, after ${ms.toFixed(0)} ms`);
    assert.equal(await b.exited, 3);

    const c = slowFifo();
    let got = 0;
    ms = await timesOut(
      timeout(300, async () => {
        got = (await readFile(c.path)).length;
      }),
      performance.now(),
    );
    assert.equal(got, CHUNKS * 1024);
    assert.ok(ms >= 1400, `neither: TimeoutError after ${ms.toFixed(0)} ms`);
  });
  await watch.check();
});

test("readFile in a loop with sleep(0) (the issue's first snippet): no readFile starts after cancel()", async () => {
  const p = join(dir, "small.bin");
  writeFileSync(p, Buffer.alloc(256 * 1024, 1));
  await inLoop(async () => {
    for (const from of ["another task", "a Node timer callback"]) {
      let cancelled = false;
      let startedAfter = 0;
      let reads = 0;
      const t = createTask(async () => {
        for (let i = 0; i < 100_000; i++) {
          if (cancelled) startedAfter++;
          await readFile(p); // foreign
          reads++;
          await sleep(0); // the cancellation point
        }
      });
      while (reads < 20) await sleep(1);
      if (from === "another task") {
        cancelled = true;
        t.cancel();
      } else {
        setTimeout(() => {
          cancelled = true;
          t.cancel();
        }, 0);
      }
      await assert.rejects(t, CancelledError);
      assert.equal(startedAfter, 0, `cancel from ${from}: ${startedAfter} readFile calls started after cancel()`);
    }
  });
  await watch.check();
});

test("createReadStream with for await and sleep(0) between chunks: the timeout stops it within a chunk and closes the file", async () => {
  const p = join(dir, "big.bin");
  writeFileSync(p, Buffer.alloc(8 * 1024 * 1024, 2)); // 512 chunks of 16 KiB
  await inLoop(async () => {
    for (const withSignal of [false, true]) {
      let chunks = 0;
      let expiredAt = -1;
      const stream = createReadStream(p, { highWaterMark: 16 * 1024, signal: withSignal ? currentTask()!.signal : undefined });
      const closed = new Promise<void>((resolve) => stream.on("close", resolve));
      await assert.rejects(
        timeout(null, async (scope) => {
          for await (const _chunk of stream) {
            chunks++;
            // The deadline passes at chunk 10 (deterministic, instead of racing the disk).
            if (chunks === 10) {
              scope.reschedule(getRunningLoop().time());
              expiredAt = chunks;
            }
            await sleep(0);
          }
        }),
        TimeoutError,
      );
      assert.ok(chunks - expiredAt <= 1, `${withSignal ? "signal" : "neither"}: ${chunks - expiredAt} chunks after the deadline`);
      await closed; // the for await's exit destroyed the stream: its fd is closed
      assert.equal(stream.destroyed, true);
    }
  });
  await watch.check();
});

test("stream/promises pipeline(slow source, file) under timeout(300): signal and cancellable stop it, neither completes", async () => {
  /** 75 chunks of 1 KiB, one every 20 ms (Node timers): 1.5 s. */
  const source = (): Readable =>
    Readable.from(
      (async function* () {
        for (let i = 0; i < CHUNKS; i++) {
          await nodeDelay(20);
          yield Buffer.alloc(1024, 98);
        }
      })(),
    );
  const out = (name: string): string => join(dir, name);
  await inLoop(async () => {
    let src = source();
    let dst = createWriteStream(out("signal.bin"));
    let ms = await timesOut(timeout(300, () => pipeline(src, dst, { signal: currentTask()!.signal })), performance.now());
    assert.ok(ms >= 280 && ms < 1400, `signal: TimeoutError before the 1.5 s source ended, after ${ms.toFixed(0)} ms`);
    assert.ok(src.destroyed && dst.destroyed, "both ends destroyed");
    await until(() => dst.closed, 1000, "the file is closed");
    assert.ok(statSync(out("signal.bin")).size < CHUNKS * 1024, "stopped part-way");

    src = source();
    dst = createWriteStream(out("cancellable.bin"));
    const s2 = src;
    const d2 = dst;
    ms = await timesOut(timeout(300, () => cancellable((signal) => pipeline(s2, d2, { signal }))), performance.now());
    assert.ok(ms >= 280 && ms < 1400, `cancellable: TimeoutError before the 1.5 s source ended, after ${ms.toFixed(0)} ms`);
    await until(() => s2.destroyed && d2.closed, 1000, "both ends destroyed, the file closed");
    assert.ok(statSync(out("cancellable.bin")).size < CHUNKS * 1024);

    src = source();
    dst = createWriteStream(out("neither.bin"));
    ms = await timesOut(timeout(300, () => pipeline(src, dst)), performance.now());
    assert.ok(ms >= 1400, `neither: TimeoutError when the pipeline completed, after ${ms.toFixed(0)} ms`);
    assert.equal(statSync(out("neither.bin")).size, CHUNKS * 1024, "the whole stream was written");
  });
  await watch.check();
});
