/** tsaio/multiprocessing's Connection, Pipe, Listener and Client in one process (moving to other processes: pass.test.ts). */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createConnection } from "node:net";
import { test } from "node:test";
import { inspect } from "node:util";
import fc from "fast-check";
import { CancelledError, createTask, InvalidStateError, run, sleep, TimeoutError } from "../../src/index.js";
import { AuthenticationError, BrokenPipeError, Client, Connection, EOFError, Listener, Pipe } from "../../src/multiprocessing/connection.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 30);

/** A connected pair over a real socket. */
async function socketPair(authkey?: string): Promise<{ listener: Listener; c: Connection; s: Connection }> {
  const listener = new Listener(undefined, { authkey });
  const [c, s] = await Promise.all([Client(listener.address, { authkey }), listener.accept()]);
  return { listener, c, s };
}

test("Pipe: messages keep structured-clone semantics and their order", async () => {
  const [a, b] = Pipe();
  const cyclic: Record<string, unknown> = { k: 1 };
  cyclic.self = cyclic;
  const values: unknown[] = [1, "two", null, undefined, [1, [2]], new Map([["m", new Set([1])]]), new Date(5), new Uint8Array([1, 2]), cyclic, new RangeError("boom"), 10n];
  for (const v of values) await a.send(v);
  for (const v of values) {
    const got = await b.recv();
    if (v === cyclic) assert.equal((got as Record<string, unknown>).self, got);
    else if (v instanceof Error) assert.ok(got instanceof RangeError && got.message === "boom");
    else assert.deepEqual(got, v);
  }
  // duplex: the other way too
  await b.send("back");
  assert.equal(await a.recv(), "back");
  a.close();
  b.close();
});

test("a message is a copy: changing the object after send does not change what arrives", async () => {
  const [a, b] = Pipe<{ n: number }>();
  const o = { n: 1 };
  await a.send(o);
  o.n = 2;
  assert.deepEqual(await b.recv(), { n: 1 });
});

test("sendBytes/recvBytes, with offset and size; recvBytes of a send() gets its serialized form", async () => {
  for (const [a, b] of [Pipe(), await socketPair().then((p) => [p.c, p.s] as const)]) {
    await a.sendBytes(Buffer.from("hello world"), 6, 3);
    await a.sendBytes(new Uint16Array([1, 2]).buffer);
    await a.sendBytes(new Uint8Array(0));
    assert.equal((await b.recvBytes()).toString(), "wor");
    assert.deepEqual([...(await b.recvBytes())], [1, 0, 2, 0]);
    assert.equal((await b.recvBytes()).length, 0);
    a.close();
    b.close();
  }
});

test("poll: at once by default, waits with a timeout, null waits for ever; true at EOF", async () => {
  const [a, b] = Pipe();
  assert.equal(await b.poll(), false);
  assert.equal(await b.poll(5), false);
  setTimeout(() => void a.send("x"), 5);
  assert.equal(await b.poll(null), true);
  assert.equal(await b.poll(), true, "poll does not consume");
  assert.equal(await b.recv(), "x");
  a.close();
  assert.equal(await b.poll(), true, "at EOF recv would not wait");
});

test("EOF: the other end's messages are read first, then EOFError; send fails with BrokenPipeError", async () => {
  for (const mk of [async () => Pipe(), async () => socketPair().then((p) => [p.c, p.s] as const)]) {
    const [a, b] = await mk();
    await a.send(1);
    await a.send(2);
    const waiting = b.recv();
    a.close();
    assert.equal(await waiting, 1);
    assert.equal(await b.recv(), 2);
    await assert.rejects(b.recv(), EOFError);
    await assert.rejects(b.recv(), EOFError, "again");
    assert.throws(() => b.send(3), BrokenPipeError);
    b.close();
  }
});

test("a pending recv gets EOFError when the other end closes (never hangs)", async () => {
  const { c, s, listener } = await socketPair();
  const p = s.recv();
  c.close();
  await assert.rejects(p, EOFError);
  listener.close();
});

test("close(): pending waits reject with InvalidStateError; later calls throw it; closing twice is harmless", async () => {
  const [a, b] = Pipe();
  const r = b.recv();
  const p = b.poll(null);
  b.close();
  b.close();
  await assert.rejects(r, InvalidStateError);
  await assert.rejects(p, InvalidStateError);
  assert.throws(() => b.recv(), InvalidStateError);
  assert.throws(() => b.send(1), /closed/);
  assert.equal(b.closed, true);
  assert.equal(a.closed, false);
});

test("timeouts, signals and task cancellation end a wait (a cancellation point); the message is not lost", async () => {
  const [a, b] = Pipe<number>();
  await assert.rejects(b.recv({ timeout: 5 }), TimeoutError);
  const ac = new AbortController();
  const p = b.recv({ signal: ac.signal });
  ac.abort();
  await assert.rejects(p, CancelledError);
  await assert.rejects(b.recv({ signal: ac.signal }), CancelledError, "an aborted signal rejects at once");
  await run(async () => {
    const t = createTask(() => b.recv());
    await sleep(1);
    t.cancel();
    await assert.rejects(t, CancelledError);
  });
  await a.send(7);
  assert.equal(await b.recv(), 7, "the cancelled waits took nothing");
});

test("Pipe(false): the first end only reads, the second only writes", async () => {
  const [r, w] = Pipe<number>(false);
  assert.deepEqual([r.readable, r.writable, w.readable, w.writable], [true, false, false, true]);
  assert.throws(() => r.send(1), /read-only/);
  assert.throws(() => w.recv(), /write-only/);
  await w.send(3);
  assert.equal(await r.recv(), 3);
});

test("bad input: TypeError/RangeError naming the argument", async () => {
  const [a, b] = Pipe();
  assert.throws(() => a.send(() => 1), { name: "TypeError", message: /Connection\.send: `obj` cannot be cloned/ });
  assert.throws(() => a.sendBytes("x" as never), { name: "TypeError", message: /`buf`/ });
  assert.throws(() => a.sendBytes(new Uint8Array(2), 3), { name: "RangeError", message: /`offset`/ });
  assert.throws(() => a.sendBytes(new Uint8Array(2), 1, 2), { name: "RangeError", message: /`size`/ });
  assert.throws(() => b.recv({ timeout: -1 }), { name: "RangeError", message: /Connection\.recv: `timeout`/ });
  assert.throws(() => b.recv({ timeout: "1" as never }), { name: "TypeError", message: /`timeout`/ });
  assert.throws(() => b.recv({ signal: {} as never }), { name: "TypeError", message: /`signal`/ });
  assert.throws(() => b.recv(5 as never), { name: "TypeError", message: /`options`/ });
  assert.throws(() => b.poll("1" as never), { name: "TypeError", message: /Connection\.poll: `timeout`/ });
  assert.throws(() => Pipe(1 as never), { name: "TypeError", message: /`duplex`/ });
  assert.throws(() => new Listener(5 as never), { name: "TypeError", message: /`address`/ });
  assert.throws(() => new Listener(undefined, { authkey: 5 as never }), { name: "TypeError", message: /`authkey`/ });
  assert.throws(() => Client(""), { name: "TypeError", message: /Client: `address`/ });
  assert.throws(() => Client("/x", { authkey: [] as never }), { name: "TypeError", message: /`authkey`/ });
  assert.throws(() => Client("/x", { timeout: -2 }), { name: "RangeError", message: /`timeout`/ });
});

test("Listener/Client: the authkey challenge lets the key holder in and keeps others out", async () => {
  const { listener, c, s } = await socketPair("secret");
  await c.send({ hi: 1 });
  assert.deepEqual(await s.recv(), { hi: 1 });
  await assert.rejects(Client(listener.address, { authkey: "wrong" }), AuthenticationError);
  await assert.rejects(Client(listener.address), AuthenticationError, "no key at all");
  // A stranger speaking garbage is dropped; accept() still serves the next good client.
  const raw = createConnection(listener.address);
  raw.on("error", () => {});
  raw.write("GET / HTTP/1.0\r\n\r\n");
  const next = listener.accept();
  const c2 = await Client(listener.address, { authkey: new TextEncoder().encode("secret") });
  const s2 = await next;
  await s2.send("ok");
  assert.equal(await c2.recv(), "ok");
  raw.destroy();
  for (const x of [c, s, c2, s2]) x.close();
  listener.close();
});

test("Client to nothing rejects with the socket error; to a non-tsaio server with AuthenticationError", async () => {
  await assert.rejects(Client("/nonexistent/tsaio.sock"), (e: NodeJS.ErrnoException) => e.code === "ENOENT" || e.code === "ECONNREFUSED");
  const { createServer } = await import("node:net");
  const { join } = await import("node:path");
  const { tmpdir } = await import("node:os");
  const path = join(tmpdir(), `tsaio-test-foreign-${process.pid}.sock`);
  const server = createServer((sock) => sock.end(Buffer.from([5, 0, 0, 0, 104, 101, 108, 108, 111])));
  await new Promise<void>((r) => server.listen(path, r));
  await assert.rejects(Client(path), AuthenticationError);
  server.close();
});

test("Listener: accept timeout and signal; what a client sends before accept() is kept; close() rejects waiters and removes the socket file", async () => {
  const listener = new Listener();
  await assert.rejects(listener.accept({ timeout: 5 }), TimeoutError);
  const ac = new AbortController();
  const p = listener.accept({ signal: ac.signal });
  ac.abort();
  await assert.rejects(p, CancelledError);
  const c = await Client(listener.address);
  await c.send("early");
  c.close();
  await sleep(20);
  const s = await listener.accept();
  assert.equal(await s.recv(), "early");
  await assert.rejects(s.recv(), EOFError);
  const w = listener.accept();
  listener.close();
  await assert.rejects(w, InvalidStateError);
  await assert.rejects(listener.accept(), InvalidStateError);
  const { existsSync } = await import("node:fs");
  await sleep(5);
  if (process.platform !== "win32") assert.equal(existsSync(listener.address), false);
  assert.throws(() => new Listener(import.meta.filename), /already in use/);
});

test("large and many messages arrive whole and in order over a socket", async () => {
  const { listener, c, s } = await socketPair();
  const big = new Uint8Array(3_000_000).map((_, i) => i % 251);
  const N = 5000;
  const sender = (async () => {
    await c.send(big);
    for (let i = 0; i < N; i++) await c.send({ i, pad: "x".repeat(i % 100) });
    await c.sendBytes(big);
    c.close();
  })();
  assert.deepEqual(await s.recv(), big);
  for (let i = 0; i < N; i++) assert.equal(((await s.recv()) as { i: number }).i, i);
  assert.deepEqual(new Uint8Array(await s.recvBytes()), big);
  await assert.rejects(s.recv(), EOFError);
  await sender;
  s.close();
  listener.close();
});

test("property: any sequence of message sizes arrives intact, in order, over a socket", async () => {
  const { listener, c, s } = await socketPair();
  await fc.assert(
    fc.asyncProperty(fc.array(fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 16_000, max: 140_000 })), { minLength: 1, maxLength: 30 }), async (sizes) => {
      for (const [k, n] of sizes.entries()) await c.sendBytes(new Uint8Array(n).fill(k & 255));
      for (const [k, n] of sizes.entries()) {
        const got = await s.recvBytes({ timeout: 10_000 });
        assert.equal(got.length, n);
        if (n > 0) assert.ok(got[0] === (k & 255) && got[n - 1] === (k & 255));
      }
    }),
    { numRuns: RUNS },
  );
  c.close();
  s.close();
  listener.close();
});

test("util.inspect shows each object's state", async () => {
  const [a, b] = Pipe();
  await a.send(1);
  assert.match(inspect(b), /^<Connection open unread=1 sent=0 received=1 via=in-process>$/);
  a.close();
  assert.match(inspect(a), /<Connection closed/);
  assert.match(inspect(b), /<Connection peer-closed/);
  const listener = new Listener();
  assert.match(inspect(listener), /^<Listener listening address=".*" accepted=0 ready=0>$/);
  listener.close();
  assert.match(inspect(listener), /<Listener closed/);
});

test("a program that leaves connections, a listener and a served queue open exits by itself", () => {
  const out = execFileSync(process.execPath, ["--import", "tsx", new URL("./fixtures/conn-exit.ts", import.meta.url).pathname], { encoding: "utf8", timeout: 60_000 });
  assert.equal(out.trim(), "done hello");
});
