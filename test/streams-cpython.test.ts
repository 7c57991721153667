/**
 * tsaio's streams against real peers written with CPython 3.13's own asyncio streams
 * (test/fixtures/streams/peer.py, run with tsaio's createSubprocessExec): a tsaio server serving
 * asyncio clients, and a tsaio client talking to an asyncio server — lines, half-close (write_eof),
 * a peer that resets, a peer that says nothing, flow control over 8 MB, many concurrent clients, TLS.
 * CPython 3.13+ is found as vloop.py finds it (PATH, then pyenv). Without it every test is skipped
 * with one loud line, except under CI=true, where that is a failure.
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import {
  createSubprocessExec,
  openConnection,
  PIPE,
  run,
  type Server,
  startServer,
  type StreamReader,
  type StreamWriter,
  type Subprocess,
  timeout,
  TimeoutError,
} from "../src/index.js";
import { findPython313 } from "./fixtures/streams/python.js";

const python = findPython313();
const inCI = process.env.CI === "true";
if (python === null) {
  if (inCI) test("CPython 3.13+ is needed for the real-peer streams tests", () => assert.fail("no CPython 3.13+ found (PATH, pyenv, TSAIO_PYTHON)"));
  else console.error("# streams-cpython: no CPython 3.13+ found (PATH, pyenv, TSAIO_PYTHON): these tests are skipped");
}
const skip = python === null;
const peer = fileURLToPath(new URL("./fixtures/streams/peer.py", import.meta.url));
const certFile = fileURLToPath(new URL("./fixtures/streams/cert.pem", import.meta.url));
const keyFile = fileURLToPath(new URL("./fixtures/streams/key.pem", import.meta.url));
const inLoop = <T>(fn: () => Promise<T>): Promise<T> => run(fn, { handleSigint: false });
const portOf = (server: Server): number => (server.sockets[0]!.address() as AddressInfo).port;
const s = (b: Buffer): string => b.toString();

/** Runs peer.py with `args` to its end; returns its stdout (fails with its stderr if it fails). */
async function runPeer(...args: string[]): Promise<string> {
  const proc = await createSubprocessExec(python!, [peer, ...args], { stdout: PIPE, stderr: PIPE });
  const [out, err] = await timeout(30_000, () => proc.communicate());
  assert.equal(proc.returncode, 0, `peer.py ${args.join(" ")} failed:\n${s(err!)}`);
  return s(out!).trim();
}

async function upperEcho(reader: StreamReader, writer: StreamWriter): Promise<void> {
  for await (const line of reader) {
    writer.write(s(line).toUpperCase());
    await writer.drain();
  }
  writer.close();
}

test("a tsaio server serves CPython asyncio clients: lines, write_eof(), the close after it; 200 at once", { skip }, async () => {
  await inLoop(async () => {
    await using server = await startServer(upperEcho, "127.0.0.1", 0);
    const port = String(portOf(server));
    assert.equal(await runPeer("client", "127.0.0.1", port, "1000"), "ok 1000");
    assert.equal(await runPeer("many", "127.0.0.1", port, "200"), "ok 200");
  });
});

test("a CPython client that connects and says nothing: the tsaio handler's readline() times out and the connection stays usable", { skip }, async () => {
  await inLoop(async () => {
    const seen: string[] = [];
    await using server = await startServer(async (reader, writer) => {
      try {
        await timeout(200, () => reader.readline());
      } catch (e) {
        seen.push((e as Error).name);
        writer.write("hello?\n");
      }
      seen.push(`eof ${(await reader.read()).length}`);
      writer.close();
    }, "127.0.0.1", 0);
    assert.equal(await runPeer("silent", "127.0.0.1", String(portOf(server))), "hello?");
    while (seen.length < 2) await timeout(5_000, () => new Promise((r) => setTimeout(r, 10)));
    assert.deepEqual(seen, [TimeoutError.name, "eof 0"]);
  });
});

/** Starts peer.py's asyncio server; returns it and its port. Closing its stdin stops it. */
async function pythonServer(...args: string[]): Promise<{ proc: Subprocess; port: number }> {
  const proc = await createSubprocessExec(python!, [peer, "server", ...args], { stdin: PIPE, stdout: PIPE });
  const line = s(await timeout(30_000, () => proc.stdout!.readline()));
  const m = /^PORT (\d+)/.exec(line);
  assert.ok(m, `peer.py server said ${JSON.stringify(line)}`);
  return { proc, port: Number(m[1]) };
}

async function stop(proc: Subprocess): Promise<void> {
  proc.stdin!.close();
  assert.equal(await timeout(10_000, () => proc.wait()), 0);
}

test("a tsaio client talks to a CPython asyncio server: lines, writeEof() and the answer after it, 8 MB under flow control, a reset", { skip }, async () => {
  await inLoop(async () => {
    const { proc, port } = await pythonServer();
    try {
      const [reader, writer] = await openConnection("127.0.0.1", port);
      writer.write("ECHO\n");
      for (let i = 0; i < 100; i++) writer.write(`line ${i}\n`);
      await writer.drain();
      writer.writeEof();
      for (let i = 0; i < 100; i++) assert.equal(s(await reader.readline()), `LINE ${i}\n`);
      assert.equal(s(await reader.readline()), "bye\n", "the server answered after our EOF (half-close)");
      assert.equal((await reader.read()).length, 0);
      writer.close();
      await writer.waitClosed();

      // 8 MB with a small limit: the reader pauses the socket past 2 × limit and resumes as it reads.
      const [r2, w2] = await openConnection("127.0.0.1", port, { limit: 1024 });
      w2.write("BIG 8000000\n");
      let total = 0;
      for (;;) {
        const b = await r2.read(1000);
        if (b.length === 0) break;
        total += b.length;
      }
      assert.equal(total, 8_000_000);
      w2.close();

      const [r3, w3] = await openConnection("127.0.0.1", port);
      // (The peer resets before sending anything: when data precedes the RST, whether Node's read
      // reports ECONNRESET or a plain EOF depends on which syscall picks the socket error up first.)
      w3.write("RESET\n");
      await assert.rejects(r3.readline(), (e: unknown) => (e as NodeJS.ErrnoException).code === "ECONNRESET");
      await assert.rejects(w3.drain(), (e: unknown) => (e as NodeJS.ErrnoException).code === "ECONNRESET");
      w3.close();
    } finally {
      await stop(proc);
    }
  });
});

test("TLS both ways: a CPython TLS client against a tsaio TLS server, a tsaio TLS client against a CPython TLS server", { skip }, async () => {
  await inLoop(async () => {
    const { readFileSync } = await import("node:fs");
    const [key, cert] = [readFileSync(keyFile), readFileSync(certFile)];
    {
      await using server = await startServer(upperEcho, "127.0.0.1", 0, { ssl: { key, cert } });
      assert.equal(await runPeer("client", "127.0.0.1", String(portOf(server)), "50", certFile), "ok 50");
    }
    const { proc, port } = await pythonServer(certFile, keyFile);
    try {
      const [reader, writer] = await openConnection("127.0.0.1", port, { ssl: { ca: cert }, serverHostname: "localhost" });
      writer.write("ECHO\nsecret\n");
      assert.equal(s(await reader.readline()), "SECRET\n");
      writer.close();
      await writer.waitClosed();
    } finally {
      await stop(proc);
    }
  });
});
