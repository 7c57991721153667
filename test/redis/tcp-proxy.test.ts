/** The test's TCP proxy (test/support/tcp-proxy.ts): forwards, cuts (refuse, blackhole), restores, closes. */
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, test } from "node:test";
import { TcpProxy } from "../support/tcp-proxy.js";
import { redisTest } from "../support/redis.js";

let echo: net.Server;
let echoPort = 0;
before(async () => {
  echo = net.createServer((s) => {
    s.on("error", () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
  echoPort = (echo.address() as net.AddressInfo).port;
});
after(async () => {
  await new Promise<void>((r) => echo.close(() => r()));
});

/** Connects, writes `text`, and says what happened within `ms`: the echo, "reset"/"closed", or "silent". */
function roundTrip(port: number, text: string, ms = 300): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    let got = "";
    const done = (what: string): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(what);
    };
    const timer = setTimeout(() => done(got === "" ? "silent" : got), ms);
    s.on("data", (d: Buffer) => {
      got += d.toString();
      if (got === text) done(got);
    });
    s.on("error", (e: NodeJS.ErrnoException) => done(e.code === "ECONNRESET" ? "reset" : (e.code ?? "error")));
    s.on("close", () => done(got === "" ? "closed" : got));
    s.write(text);
  });
}

test("forwards both ways; cut() refuses (new connections reset, live ones closed); restore() forwards again", async () => {
  const p = await TcpProxy.start({ host: "127.0.0.1", port: echoPort });
  try {
    assert.equal(await roundTrip(p.port, "hello"), "hello");
    const live = net.connect({ port: p.port, host: "127.0.0.1" });
    const closed = new Promise<void>((r) => live.on("close", () => r()));
    live.on("error", () => {});
    await new Promise<void>((r) => live.on("connect", () => r()));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(p.connections, 1);
    p.cut();
    assert.equal(p.state, "refuse");
    await closed;
    assert.match(await roundTrip(p.port, "x"), /^(reset|closed)$/);
    p.restore();
    assert.equal(await roundTrip(p.port, "again"), "again");
  } finally {
    await p.close();
  }
});

test("cut({ mode: 'blackhole' }): live and new connections stay open and silent; restore() closes them", async () => {
  const p = await TcpProxy.start({ host: "127.0.0.1", port: echoPort });
  try {
    const live = net.connect({ port: p.port, host: "127.0.0.1" });
    live.on("error", () => {});
    let received = "";
    live.on("data", (d: Buffer) => (received += d.toString()));
    const closed = new Promise<void>((r) => live.on("close", () => r()));
    await new Promise<void>((r) => live.on("connect", () => r()));
    p.cut({ mode: "blackhole" });
    live.write("lost");
    assert.equal(await roundTrip(p.port, "y", 200), "silent");
    assert.equal(received, "");
    assert.equal(live.destroyed, false);
    p.restore();
    await closed;
    assert.equal(await roundTrip(p.port, "back"), "back");
  } finally {
    await p.close();
  }
  assert.equal(p.connections, 0);
});

test("cut() rejects an unknown mode with a TypeError naming it", async () => {
  const p = await TcpProxy.start({ port: echoPort });
  try {
    assert.throws(() => p.cut({ mode: "drop" as "refuse" }), { name: "TypeError", message: /mode/ });
  } finally {
    await p.close();
  }
});

test("a Redis client through the proxy works, fails on a cut, and works after restore()", async (t) => {
  const r = await redisTest(t);
  if (r === undefined) return;
  const p = await TcpProxy.forUrl(r.url);
  t.after(() => p.close());
  const c = r.client(p.urlFor(r.url), { maxRetriesPerRequest: 0, retryStrategy: () => 20 });
  await c.set(r.key("k"), "v");
  assert.equal(await c.get(r.key("k")), "v");
  p.cut();
  await assert.rejects(c.get(r.key("k")));
  p.restore();
  for (let i = 0; ; i++) {
    try {
      assert.equal(await c.get(r.key("k")), "v");
      break;
    } catch (e) {
      if (i > 50) throw e;
      await new Promise((res) => setTimeout(res, 20));
    }
  }
});
