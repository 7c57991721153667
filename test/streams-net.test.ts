/**
 * Streams over real sockets (TCP, unix, TLS) on 127.0.0.1: the client and server API, half-close,
 * resets, silent peers, backpressure, cancellation of connects/reads/drains, the Server's asyncio
 * 3.13 semantics and tsaio's structured serveForever(), 1,000 concurrent connections, no fd leak over
 * 10,000 connections, and bad input.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync, existsSync, rmSync, mkdtempSync } from "node:fs";
import net, { type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import tls from "node:tls";
import { inspect } from "node:util";
import {
  CancelledError,
  createTask,
  Event,
  gather,
  getRunningLoop,
  InvalidStateError,
  openConnection,
  openUnixConnection,
  type Server,
  sleep,
  startServer,
  startUnixServer,
  type StreamReader,
  type StreamWriter,
  timeout,
  TimeoutError,
} from "../src/index.js";
import { run } from "../src/index.js";

const here = new URL("./fixtures/streams/", import.meta.url);
const key = readFileSync(new URL("key.pem", here));
const cert = readFileSync(new URL("cert.pem", here));
const inLoop = <T>(fn: () => Promise<T>): Promise<T> => run(fn, { handleSigint: false });
const portOf = (server: Server): number => (server.sockets[0]!.address() as AddressInfo).port;
const s = (b: Buffer): string => b.toString();
const errCode = (e: unknown): string | undefined => (e as NodeJS.ErrnoException).code;
const tmp = mkdtempSync(join(tmpdir(), "tsaio-streams-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

/** An echo handler: every line back, upper-cased; closes at EOF. */
async function upperEcho(reader: StreamReader, writer: StreamWriter): Promise<void> {
  for await (const line of reader) {
    writer.write(s(line).toUpperCase());
    await writer.drain();
  }
  writer.close();
}

test("TCP: openConnection to startServer — lines both ways, writelines, drain, close, EOF on the other side", async () => {
  await inLoop(async () => {
    await using server = await startServer(upperEcho, "127.0.0.1", 0);
    assert.equal(server.isServing(), true);
    const [reader, writer] = await openConnection("127.0.0.1", portOf(server));
    writer.write("hello\n");
    writer.writelines(["a\n", Buffer.from("b\n"), new Uint8Array([99, 10])]);
    await writer.drain();
    const got: string[] = [];
    for (let i = 0; i < 4; i++) got.push(s(await reader.readline()));
    assert.deepEqual(got, ["HELLO\n", "A\n", "B\n", "C\n"]);
    writer.writeEof(); // the server's loop ends, it closes: we see EOF
    assert.equal((await reader.read()).length, 0);
    assert.equal(reader.atEof(), true);
    writer.close();
    await writer.waitClosed();
    assert.equal(writer.isClosing(), true);
  });
});

test("getExtraInfo: peername, sockname and socket on both sides; unknown names give the default", async () => {
  await inLoop(async () => {
    const seen = new Event();
    let serverSide: [unknown, unknown, unknown] | undefined;
    await using server = await startServer(async (_r, w) => {
      serverSide = [w.getExtraInfo("peername"), w.getExtraInfo("sockname"), w.getExtraInfo("socket")];
      seen.set();
      w.close();
    }, "127.0.0.1", 0);
    const port = portOf(server);
    const [, writer] = await openConnection("127.0.0.1", port);
    await seen.wait();
    const [addr, cport] = writer.getExtraInfo("sockname") as [string, number];
    assert.deepEqual(writer.getExtraInfo("peername"), ["127.0.0.1", port]);
    assert.equal(addr, "127.0.0.1");
    assert.deepEqual(serverSide![0], ["127.0.0.1", cport]);
    assert.deepEqual(serverSide![1], ["127.0.0.1", port]);
    assert.ok(serverSide![2] instanceof net.Socket);
    assert.ok(writer.getExtraInfo("socket") instanceof net.Socket);
    assert.equal(writer.getExtraInfo("sslcontext"), undefined);
    assert.equal(writer.getExtraInfo("nonsense", 42), 42);
    assert.equal(writer.canWriteEof(), true);
    writer.close();
  });
});

test("unix sockets: echo, a stale socket file is replaced, the file is gone after close", async () => {
  await inLoop(async () => {
    const path = join(tmp, "echo.sock");
    // A stale socket file, as a crashed process leaves it.
    spawnSync(process.execPath, ["-e", `require("net").createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, "SIGKILL"))`]);
    writeFileSync(join(tmp, "not-a-socket"), "x");
    assert.ok(existsSync(path));
    {
      await using server = await startUnixServer(upperEcho, path);
      assert.equal(server.sockets[0]!.address(), path);
      const [reader, writer] = await openUnixConnection(path);
      assert.equal(writer.getExtraInfo("peername"), path);
      writer.write("unix\n");
      assert.equal(s(await reader.readline()), "UNIX\n");
      writer.close();
      await writer.waitClosed();
    }
    assert.equal(existsSync(path), false, "the socket file is removed on close");
    await assert.rejects(startUnixServer(upperEcho, join(tmp, "not-a-socket")), (e: unknown) => errCode(e) === "EADDRINUSE");
    await assert.rejects(openUnixConnection(join(tmp, "missing.sock")), (e: unknown) => errCode(e) === "ENOENT" && (e as Error).message.includes("missing.sock"));
  });
});

test("TLS: openConnection with ssl to startServer with ssl; peercert, sslcontext; no writeEof over TLS; an untrusted certificate fails", async () => {
  await inLoop(async () => {
    await using server = await startServer(upperEcho, "127.0.0.1", 0, { ssl: { key, cert } });
    const port = portOf(server);
    const [reader, writer] = await openConnection("127.0.0.1", port, { ssl: { ca: cert } });
    writer.write("secret\n");
    assert.equal(s(await reader.readline()), "SECRET\n");
    assert.equal(writer.canWriteEof(), false);
    assert.throws(() => writer.writeEof(), InvalidStateError);
    assert.equal((writer.getExtraInfo("peercert") as tls.PeerCertificate).subject.CN, "localhost");
    assert.ok(writer.getExtraInfo("sslcontext") !== undefined);
    assert.ok(writer.getExtraInfo("ssl_object") instanceof tls.TLSSocket);
    assert.match(inspect(writer), /^<StreamWriter 127\.0\.0\.1:\d+ tls>$/);
    writer.close();
    await writer.waitClosed();
    // By host name (SNI and the name check), with a SecureContext.
    const [r2, w2] = await openConnection("localhost", port, { ssl: tls.createSecureContext({ ca: cert }), family: 4 });
    w2.write("ctx\n");
    assert.equal(s(await r2.readline()), "CTX\n");
    w2.close();
    await assert.rejects(openConnection("127.0.0.1", port, { ssl: true }), (e: unknown) => /self.signed|DEPTH_ZERO|certificate/i.test(String((e as Error).message) + errCode(e)));
    await assert.rejects(openConnection("127.0.0.1", port, { ssl: { ca: cert }, serverHostname: "example.com" }), /altnames|Hostname/i);
  });
});

test("TLS handshake: a silent server; timeout() cancels it, sslHandshakeTimeout aborts it (ECONNABORTED); the socket is destroyed", async () => {
  await inLoop(async () => {
    const closed: number[] = [];
    const silent = net.createServer((sock) => sock.resume().on("close", () => closed.push(1)));
    await new Promise<void>((res) => silent.listen(0, "127.0.0.1", res));
    const port = (silent.address() as AddressInfo).port;
    await assert.rejects(
      timeout(100, () => openConnection("127.0.0.1", port, { ssl: { ca: cert } })),
      TimeoutError,
    );
    await assert.rejects(openConnection("127.0.0.1", port, { ssl: { ca: cert }, sslHandshakeTimeout: 100 }), (e: unknown) => errCode(e) === "ECONNABORTED");
    for (let i = 0; i < 100 && closed.length < 2; i++) await sleep(10);
    assert.equal(closed.length, 2, "both client sockets were closed");
    silent.close();
  });
});

test("TLS server: a SecureContext; requestCert refuses a client without a certificate; a client stuck in its handshake is dropped by sslHandshakeTimeout and by the shutdown", async () => {
  await inLoop(async () => {
    {
      await using server = await startServer(upperEcho, "127.0.0.1", 0, { ssl: tls.createSecureContext({ key, cert }) });
      const [r, w] = await openConnection("127.0.0.1", portOf(server), { ssl: { ca: cert } });
      w.write("ctx\n");
      assert.equal(s(await r.readline()), "CTX\n");
      w.close();
    }
    {
      await using server = await startServer(upperEcho, "127.0.0.1", 0, { ssl: { key, cert, ca: cert, requestCert: true } });
      const port = portOf(server);
      const [r, w] = await openConnection("127.0.0.1", port, { ssl: { ca: cert, key, cert } });
      w.write("with a certificate\n");
      assert.equal(s(await r.readline()), "WITH A CERTIFICATE\n");
      w.close();
      // TLS 1.3: the refusal comes after the client's handshake, as an alert or a close.
      const refused = await openConnection("127.0.0.1", port, { ssl: { ca: cert } }).then(
        async ([r2]) => r2.read().then((b) => b.length === 0, () => true),
        () => true,
      );
      assert.equal(refused, true);
      const stranger = { key: readFileSync(new URL("other-key.pem", here)), cert: readFileSync(new URL("other-cert.pem", here)) };
      const untrusted = await openConnection("127.0.0.1", port, { ssl: { ca: cert, ...stranger } }).then(
        async ([r2]) => r2.read().then((b) => b.length === 0, () => true),
        () => true,
      );
      assert.equal(untrusted, true, "a client certificate nobody trusts is refused");
    }
    const closes: string[] = [];
    const stuck = (server: Server): Promise<net.Socket> =>
      new Promise((res) => {
        const sock = net.connect(portOf(server), "127.0.0.1", () => res(sock));
        sock.resume().on("close", () => closes.push("closed"));
      });
    {
      await using server = await startServer(upperEcho, "127.0.0.1", 0, { ssl: { key, cert }, sslHandshakeTimeout: 100 });
      await stuck(server);
      for (let i = 0; i < 100 && closes.length < 1; i++) await sleep(10);
      assert.deepEqual(closes, ["closed"], "sslHandshakeTimeout dropped it");
    }
    const server = await startServer(upperEcho, "127.0.0.1", 0, { ssl: { key, cert } });
    await stuck(server);
    await sleep(20);
    assert.equal(server._handshaking.size, 1);
    server.close();
    const waiting = createTask(() => server.waitClosed());
    await sleep(20);
    assert.equal(waiting.done(), false, "waitClosed() waits for a connection in its handshake");
    await server[Symbol.asyncDispose]();
    await waiting;
    for (let i = 0; i < 100 && closes.length < 2; i++) await sleep(10);
    assert.deepEqual(closes, ["closed", "closed"], "the shutdown dropped it");
  });
});

test("startTls: a plaintext connection upgraded to TLS on both sides (STARTTLS)", async () => {
  await inLoop(async () => {
    await using server = await startServer(async (reader, writer) => {
      assert.equal(s(await reader.readline()), "STARTTLS\n");
      writer.write("GO\n");
      await writer.startTls({ key, cert });
      assert.equal(writer.canWriteEof(), false);
      const line = await reader.readline();
      writer.write(`secure ${s(line)}`);
      await writer.drain();
      writer.close();
    }, "127.0.0.1", 0);
    const [reader, writer] = await openConnection("127.0.0.1", portOf(server));
    writer.write("STARTTLS\n");
    assert.equal(s(await reader.readline()), "GO\n");
    await writer.startTls({ ca: cert }, { serverHostname: "localhost" });
    writer.write("hi\n");
    assert.equal(s(await reader.readline()), "secure hi\n");
    assert.equal((writer.getExtraInfo("peercert") as tls.PeerCertificate).subject.CN, "localhost");
    await assert.rejects(writer.startTls({ ca: cert }), InvalidStateError);
    writer.close();
  });
});

test("the writes of one tick leave together (corked until the end of the tick), in order, before Node returns to its event loop", async () => {
  await inLoop(async () => {
    await using server = await startServer(upperEcho, "127.0.0.1", 0);
    const [reader, writer] = await openConnection("127.0.0.1", portOf(server));
    const sock = writer.getExtraInfo("socket") as net.Socket;
    for (let i = 0; i < 1000; i++) writer.write(`line ${i}\n`);
    assert.equal(sock.writableCorked, 1, "corked while the task writes");
    sock.write("direct\n"); // written to the socket itself: queued after the lines, in order
    await new Promise<void>((res) => process.nextTick(res));
    assert.equal(sock.writableCorked, 0, "uncorked at the end of the tick");
    for (let i = 0; i < 1000; i++) assert.equal(s(await reader.readline()), `LINE ${i}\n`);
    assert.equal(s(await reader.readline()), "DIRECT\n");
    writer.close();
  });
});

test("half-close: the client sends EOF, the server reads to the end and answers, the client reads the answer", async () => {
  await inLoop(async () => {
    await using server = await startServer(async (reader, writer) => {
      const body = await reader.read(); // to EOF
      writer.write(`got ${body.length} bytes\n`);
      await writer.drain();
      writer.close();
    }, "127.0.0.1", 0);
    const [reader, writer] = await openConnection("127.0.0.1", portOf(server));
    writer.write("x".repeat(100_000));
    writer.writeEof();
    writer.writeEof(); // a second one does nothing
    assert.throws(() => writer.write("more"), InvalidStateError);
    assert.equal(s(await reader.readline()), "got 100000 bytes\n");
    assert.equal((await reader.read()).length, 0);
    writer.close();
    await writer.waitClosed();
  });
});

test("a peer that resets: reads fail with ECONNRESET, and so do drain() and waitClosed()", async () => {
  await inLoop(async () => {
    await using server = await startServer(async (reader, writer) => {
      await reader.readline();
      (writer.getExtraInfo("socket") as net.Socket).resetAndDestroy();
    }, "127.0.0.1", 0);
    const [reader, writer] = await openConnection("127.0.0.1", portOf(server));
    writer.write("bye\n");
    await assert.rejects(reader.readline(), (e: unknown) => errCode(e) === "ECONNRESET");
    await assert.rejects(writer.drain(), (e: unknown) => errCode(e) === "ECONNRESET");
    await assert.rejects(writer.waitClosed(), (e: unknown) => errCode(e) === "ECONNRESET");
    writer.write("dropped");
    await writer[Symbol.asyncDispose](); // does not throw
  });
});

test("a peer that connects and says nothing: readline() under timeout() raises TimeoutError and the connection stays usable", async () => {
  await inLoop(async () => {
    const results: string[] = [];
    await using server = await startServer(async (reader, writer) => {
      try {
        await timeout(100, () => reader.readline());
      } catch (e) {
        results.push((e as Error).name);
      }
      writer.write("still there?\n");
      results.push(s(await reader.readline()));
      writer.close();
    }, "127.0.0.1", 0);
    const [reader, writer] = await openConnection("127.0.0.1", portOf(server));
    assert.equal(s(await reader.readline()), "still there?\n");
    writer.write("yes\n");
    assert.equal((await reader.read()).length, 0);
    assert.deepEqual(results, ["TimeoutError", "yes\n"]);
    writer.close();
  });
});

test("connect errors keep Node's codes and name the address", async () => {
  await inLoop(async () => {
    const free = net.createServer();
    await new Promise<void>((res) => free.listen(0, "127.0.0.1", res));
    const port = (free.address() as AddressInfo).port;
    await new Promise<void>((res) => free.close(() => res()));
    await assert.rejects(openConnection("127.0.0.1", port), (e: unknown) => errCode(e) === "ECONNREFUSED" && (e as Error).message.includes(`127.0.0.1:${port}`));
  });
});

test("connect is a cancellation point: cancel(), timeout() and signal stop it and leave no socket", async () => {
  await inLoop(async () => {
    await using server = await startServer((_r, w) => w.close(), "127.0.0.1", 0);
    const port = portOf(server);
    const tcpHandles = (): number => process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap" || r === "TCPWRAP").length;
    await sleep(20);
    const before = tcpHandles();
    const t = createTask(() => openConnection("127.0.0.1", port));
    await sleep(0); // the connect is under way (it completes in Node's I/O phase)
    t.cancel();
    await assert.rejects(t, CancelledError);
    await assert.rejects(
      timeout(0, () => openConnection("127.0.0.1", port)),
      TimeoutError,
    );
    const ac = new AbortController();
    const p = openConnection("127.0.0.1", port, { signal: ac.signal });
    ac.abort();
    await assert.rejects(p, CancelledError);
    await assert.rejects(openConnection("127.0.0.1", port, { signal: ac.signal }), CancelledError, "an aborted signal refuses at once");
    for (let i = 0; i < 50 && tcpHandles() > before; i++) await sleep(10);
    assert.equal(tcpHandles(), before, "no socket left behind");
  });
});

test("drain(): waits while the peer does not read; a timeout() cancels the wait; it resumes once the peer reads", async () => {
  await inLoop(async () => {
    const reading = new Event();
    let total = 0;
    await using server = await startServer(async (reader) => {
      await reading.wait();
      for (;;) {
        const b = await reader.read(1 << 20);
        if (b.length === 0) break;
        total += b.length;
      }
    }, "127.0.0.1", 0);
    const [, writer] = await openConnection("127.0.0.1", portOf(server));
    const chunk = Buffer.alloc(1 << 20, 120);
    let written = 0;
    let blocked = false;
    for (let i = 0; i < 64 && !blocked; i++) {
      writer.write(chunk);
      written += chunk.length;
      try {
        await timeout(50, () => writer.drain());
      } catch (e) {
        assert.ok(e instanceof TimeoutError);
        blocked = true;
      }
    }
    assert.ok(blocked, "drain() blocked while the peer did not read");
    assert.match(inspect(writer), /buffered=\d+/);
    reading.set();
    await writer.drain();
    writer.writeEof();
    for (let i = 0; i < 300 && total < written; i++) await sleep(10);
    assert.equal(total, written);
    writer.close();
  });
});

test("Server: close() stops listening and leaves connections open; waitClosed() waits for them; closeClients/abortClients", async () => {
  await inLoop(async () => {
    const server = await startServer(async (reader, writer) => {
      for await (const line of reader) writer.write(line);
    }, "127.0.0.1", 0);
    const port = portOf(server);
    const [r1, w1] = await openConnection("127.0.0.1", port);
    const [r2, w2] = await openConnection("127.0.0.1", port);
    w1.write("a\n");
    w2.write("b\n");
    assert.equal(s(await r1.readline()), "a\n");
    assert.equal(s(await r2.readline()), "b\n");
    assert.match(inspect(server), /^<Server 127\.0\.0\.1:\d+ serving clients=2 handlers=2>$/);
    server.close();
    assert.equal(server.isServing(), false);
    assert.deepEqual(server.sockets, []);
    await assert.rejects(openConnection("127.0.0.1", port), (e: unknown) => errCode(e) === "ECONNREFUSED");
    w1.write("still open\n");
    assert.equal(s(await r1.readline()), "still open\n");
    const closed = createTask(() => server.waitClosed());
    await sleep(20);
    assert.equal(closed.done(), false, "waitClosed() waits for the connections");
    server.closeClients();
    assert.equal((await r1.read()).length, 0);
    server.abortClients();
    assert.equal((await r2.read()).length, 0);
    await closed;
    await server.waitClosed(); // at once now
    await assert.rejects(server.serveForever(), InvalidStateError);
    w1.close();
    w2.close();
  });
});

test("serveForever(): cancelling it closes the server, cancels the handlers (their finally runs) and waits for them; it closes the connections", async () => {
  await inLoop(async () => {
    const log: string[] = [];
    const server = await startServer(async (reader, writer) => {
      try {
        await reader.readline(); // stuck: the client never sends a line
      } finally {
        log.push("handler finally");
        await sleep(20); // cleanup that takes a while: serveForever waits for it
        log.push("handler cleaned up");
      }
      writer.close();
    }, "127.0.0.1", 0);
    const serving = createTask(() => server.serveForever());
    await sleep(0);
    await assert.rejects(server.serveForever(), (e: unknown) => e instanceof InvalidStateError && /already being awaited/.test(e.message));
    const port = portOf(server);
    const conns = await gather([0, 1, 2].map(() => () => openConnection("127.0.0.1", port)));
    while (server._tasks.size < 3) await sleep(5);
    serving.cancel();
    await assert.rejects(serving, CancelledError);
    log.push("serveForever done");
    assert.deepEqual(log, ["handler finally", "handler finally", "handler finally", "handler cleaned up", "handler cleaned up", "handler cleaned up", "serveForever done"]);
    assert.equal(server.isServing(), false);
    assert.equal(server._clients.size, 0);
    for (const [r, w] of conns) {
      assert.equal((await r.read()).length, 0, "the connection was closed");
      w.close();
    }
  });
});

test("serveForever() under timeout(), `await using server`, and close() from elsewhere (CancelledError, as asyncio)", async () => {
  await inLoop(async () => {
    let cancelledHandlers = 0;
    const handler = async (reader: StreamReader): Promise<void> => {
      try {
        await reader.read();
      } catch (e) {
        if (e instanceof CancelledError) cancelledHandlers++;
        throw e;
      }
    };
    const server = await startServer(handler, "127.0.0.1", 0);
    const [, w] = await openConnection("127.0.0.1", portOf(server));
    await assert.rejects(
      timeout(100, () => server.serveForever()),
      TimeoutError,
    );
    assert.equal(cancelledHandlers, 1);
    assert.equal(server.isServing(), false);
    w.close();

    let port: number;
    {
      await using s2 = await startServer(handler, "127.0.0.1", 0);
      port = portOf(s2);
      await openConnection("127.0.0.1", port);
      while (s2._tasks.size < 1) await sleep(5);
    }
    assert.equal(cancelledHandlers, 2, "leaving `await using` cancelled the handler");
    await assert.rejects(openConnection("127.0.0.1", port), (e: unknown) => errCode(e) === "ECONNREFUSED");

    const s3 = await startServer(handler, "127.0.0.1", 0);
    const t = createTask(() => s3.serveForever());
    await sleep(0);
    s3.close();
    await assert.rejects(t, CancelledError);
  });
});

test("a failing handler is reported to the loop's exception handler and its connection closed", async () => {
  await inLoop(async () => {
    const reports: string[] = [];
    getRunningLoop().setExceptionHandler((_l, ctx) => reports.push(`${ctx.message}: ${(ctx.exception as Error).message}`));
    await using server = await startServer(async (reader) => {
      await reader.readline();
      throw new Error("handler bug");
    }, "127.0.0.1", 0);
    const [reader, writer] = await openConnection("127.0.0.1", portOf(server));
    writer.write("go\n");
    assert.equal((await reader.read()).length, 0);
    assert.equal(reports.length, 1);
    assert.match(reports[0]!, /Unhandled exception in the connection handler.*handler bug/);
    writer.close();
  });
});

test("1,000 concurrent connections on 127.0.0.1, each answered", async () => {
  await inLoop(async () => {
    await using server = await startServer(upperEcho, "127.0.0.1", 0);
    const port = portOf(server);
    const answers = await gather(
      Array.from({ length: 1000 }, (_, i) => async () => {
        const [reader, writer] = await openConnection("127.0.0.1", port);
        writer.write(`client ${i}\n`);
        const line = s(await reader.readline());
        writer.close();
        await writer.waitClosed();
        return line;
      }),
    );
    assert.equal(answers.length, 1000);
    answers.forEach((a, i) => assert.equal(a, `CLIENT ${i}\n`));
  });
});

test("no descriptor leaks: 10,000 connections (100 at a time) leave as many open fds as before", { skip: !existsSync("/proc/self/fd") }, async () => {
  const fds = (): number => readdirSync("/proc/self/fd").length;
  await inLoop(async () => {
    await sleep(10);
    const before = fds();
    {
      await using server = await startServer(async (reader, writer) => {
        writer.write(await reader.readline());
        writer.close();
      }, "127.0.0.1", 0);
      const port = portOf(server);
      for (let round = 0; round < 100; round++) {
        await gather(
          Array.from({ length: 100 }, () => async () => {
            const [reader, writer] = await openConnection("127.0.0.1", port);
            writer.write("x\n");
            await reader.readline();
            await reader.read();
            writer.close();
            await writer.waitClosed();
          }),
        );
      }
    }
    for (let i = 0; i < 100 && fds() > before; i++) await sleep(10);
    assert.ok(fds() <= before, `${fds()} fds open after, ${before} before`);
  });
});

test("EADDRINUSE: a second server on the same port fails with Node's code; several hosts; IPv6", async () => {
  await inLoop(async () => {
    await using server = await startServer(upperEcho, "127.0.0.1", 0);
    const port = portOf(server);
    await assert.rejects(startServer(upperEcho, "127.0.0.1", port), (e: unknown) => errCode(e) === "EADDRINUSE");
    await using multi = await startServer(upperEcho, ["127.0.0.1", "127.0.0.2"], 0);
    assert.equal(multi.sockets.length, 2);
    const [r, w] = await openConnection("127.0.0.2", (multi.sockets[1]!.address() as AddressInfo).port);
    w.write("two\n");
    assert.equal(s(await r.readline()), "TWO\n");
    w.close();
    let v6: Server | null = null;
    try {
      v6 = await startServer(upperEcho, "::1", 0);
    } catch {
      // no IPv6 loopback here
    }
    if (v6 !== null) {
      const [r6, w6] = await openConnection("::1", portOf(v6));
      assert.match(inspect(w6), /^<StreamWriter ::1:\d+>$/);
      w6.write("six\n");
      assert.equal(s(await r6.readline()), "SIX\n");
      w6.close();
      await v6[Symbol.asyncDispose]();
    }
  });
});

test("bad input is a TypeError/RangeError naming the argument", async () => {
  await inLoop(async () => {
    const h = (): void => {};
    const cases: [() => Promise<unknown>, ErrorConstructor, RegExp][] = [
      [() => openConnection(5 as unknown as string, 80), TypeError, /`host`/],
      [() => openConnection("", 80), RangeError, /`host`/],
      [() => openConnection("127.0.0.1", 0), RangeError, /`port`/],
      [() => openConnection("127.0.0.1", 70000), RangeError, /`port`/],
      [() => openConnection("127.0.0.1", "80" as unknown as number), TypeError, /`port`/],
      [() => openConnection("127.0.0.1", 80, { limit: 0 }), RangeError, /`limit`/],
      [() => openConnection("127.0.0.1", 80, { family: 5 as 4 }), RangeError, /`family`/],
      [() => openConnection("127.0.0.1", 80, { ssl: "yes" as unknown as true }), TypeError, /`ssl`/],
      [() => openConnection("127.0.0.1", 80, { sslHandshakeTimeout: -1 }), RangeError, /`sslHandshakeTimeout`/],
      [() => openConnection("127.0.0.1", 80, { signal: {} as AbortSignal }), TypeError, /`signal`/],
      [() => openConnection("127.0.0.1", 80, 5 as unknown as object), TypeError, /`options`/],
      [() => openUnixConnection(3 as unknown as string), TypeError, /`path`/],
      [() => startServer("nope" as unknown as () => void, "127.0.0.1", 0), TypeError, /`handler`/],
      [() => startServer(h, "127.0.0.1", -1), RangeError, /`port`/],
      [() => startServer(h, [], 0), RangeError, /`host`/],
      [() => startServer(h, "127.0.0.1", 0, { backlog: -5 }), RangeError, /`backlog`/],
      [() => startServer(h, "127.0.0.1", 0, { noDelay: 1 as unknown as boolean }), TypeError, /`noDelay`/],
      [() => startUnixServer(h, ""), RangeError, /`path`/],
    ];
    for (const [call, type, re] of cases) {
      await assert.rejects(call, (e: unknown) => e instanceof type && re.test((e as Error).message), String(call));
    }
    const [, w] = await startServer(h, "127.0.0.1", 0).then(async (srv) => {
      const pair = await openConnection("127.0.0.1", portOf(srv));
      await srv[Symbol.asyncDispose]();
      return pair;
    });
    assert.throws(() => w.write(5 as unknown as string), (e: unknown) => e instanceof TypeError && /`data`/.test((e as Error).message));
    assert.throws(() => w.writelines(5 as unknown as string[]), (e: unknown) => e instanceof TypeError && /`data`/.test((e as Error).message));
    assert.throws(() => w.getExtraInfo(5 as unknown as string), TypeError);
    await assert.rejects(w.startTls("x" as unknown as true), TypeError);
    w.close();
  });
});

test("a read cancelled on a real socket keeps its data for the next read", async () => {
  await inLoop(async () => {
    const go = new Event();
    await using server = await startServer(async (_r, w) => {
      w.write("part one, ");
      await go.wait();
      w.write("part two\n");
      w.close();
    }, "127.0.0.1", 0);
    const [reader, writer] = await openConnection("127.0.0.1", portOf(server));
    await assert.rejects(
      timeout(50, () => reader.readline()),
      TimeoutError,
    );
    go.set();
    assert.equal(s(await reader.readline()), "part one, part two\n");
    writer.close();
  });
});
