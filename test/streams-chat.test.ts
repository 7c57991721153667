/**
 * examples/chat: nicknames, broadcast, commands, a slow client that does not stall the others
 * (dropped after its drain() times out), the shutdown through serveForever(), and the client.
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { createTask, openConnection, run, type Server, sleep, type StreamReader, type StreamWriter, timeout } from "../src/index.js";
import { chatClient } from "../examples/chat/client.js";
import { startChatServer } from "../examples/chat/server.js";

const inLoop = <T>(fn: () => Promise<T>): Promise<T> => run(fn, { handleSigint: false });
const portOf = (server: Server): number => (server.sockets[0]!.address() as AddressInfo).port;

/** A member: connected, named, its welcome read. */
async function join(port: number, nick: string): Promise<{ r: StreamReader; w: StreamWriter; next: () => Promise<string> }> {
  const [r, w] = await openConnection("127.0.0.1", port);
  const next = async (): Promise<string> => (await timeout(5_000, () => r.readline())).toString().trimEnd();
  assert.equal(await next(), "Welcome to tsaio chat! Your nickname?");
  w.write(`${nick}\n`);
  assert.match(await next(), new RegExp(`^Hello ${nick}!`));
  return { r, w, next };
}

test("chat: nicknames, broadcast to the others, /who, /nick, a taken name, /quit", async () => {
  await inLoop(async () => {
    await using server = await startChatServer();
    const port = portOf(server);
    const alice = await join(port, "alice");
    const bob = await join(port, "bob");
    assert.equal(await alice.next(), "* bob joined");
    alice.w.write("hi bob\n");
    assert.equal(await bob.next(), "<alice> hi bob");
    bob.w.write("/who\n");
    assert.equal(await bob.next(), "* here: alice, bob");

    const [r3, w3] = await openConnection("127.0.0.1", port);
    await r3.readline();
    w3.write("bob\n");
    assert.equal((await r3.readline()).toString(), "bob is taken. Try again:\n");
    w3.write("not a nick!\n");
    assert.match((await r3.readline()).toString(), /^A nickname is/);
    w3.write("carol\n");
    assert.match((await r3.readline()).toString(), /^Hello carol! 2 other/);
    assert.equal(await alice.next(), "* carol joined");
    assert.equal(await bob.next(), "* carol joined");

    bob.w.write("/nick robert\n");
    assert.equal(await alice.next(), "* bob is now robert");
    assert.equal(await bob.next(), "* bob is now robert");
    bob.w.write("/quit\n");
    assert.equal((await bob.r.read()).length, 0, "bob's connection was closed");
    assert.equal(await alice.next(), "* robert left");
    for (const w of [alice.w, bob.w, w3]) w.close();
  });
});

test("chat: a client that stops reading is dropped when its drain() times out, and the others get every message meanwhile", async () => {
  await inLoop(async () => {
    await using server = await startChatServer({ sendTimeout: 300 });
    const port = portOf(server);
    const alice = await join(port, "alice");
    const bob = await join(port, "bob");
    const slow = await join(port, "slowpoke"); // from now on it never reads
    assert.equal(await alice.next(), "* bob joined");
    assert.equal(await alice.next(), "* slowpoke joined");
    assert.equal(await bob.next(), "* slowpoke joined");
    const big = "x".repeat(32 * 1024);
    const n = 400; // 12.8 MB: more than the kernel's and Node's buffers hold for the slow one
    const got = createTask(async () => {
      let count = 0;
      let dropped = "";
      while (count < n || dropped === "") {
        const line = await bob.next();
        if (line.startsWith("<alice> ")) count++;
        else if (line.startsWith("* slowpoke was disconnected")) dropped = line;
      }
      return { count, dropped };
    });
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      alice.w.write(`${big}\n`);
      await alice.w.drain();
    }
    const { count, dropped } = await got;
    assert.equal(count, n, "bob got every message");
    assert.match(dropped, /\* slowpoke was disconnected \(did not read for 300 ms\)/);
    assert.ok(performance.now() - t0 < 20_000);
    // The slow client's connection was aborted: reading it now ends (what was sent, then EOF).
    let total = 0;
    for (;;) {
      const b = await timeout(5_000, () => slow.r.read(1 << 20));
      if (b.length === 0) break;
      total += b.length;
    }
    assert.ok(total < n * big.length, `the slow client got only part (${total} bytes)`);
    alice.w.write("/who\n");
    let who = await alice.next();
    while (who.startsWith("* slowpoke")) who = await alice.next();
    assert.equal(who, "* here: alice, bob");
    for (const w of [alice.w, bob.w, slow.w]) w.close();
  });
});

test("chat: cancelling serveForever() closes every member's connection", async () => {
  await inLoop(async () => {
    const server = await startChatServer();
    const serving = createTask(() => server.serveForever());
    const port = portOf(server);
    const alice = await join(port, "alice");
    const bob = await join(port, "bob");
    serving.cancel();
    await serving.then(
      () => assert.fail("serveForever returned"),
      () => {},
    );
    for (const m of [alice, bob]) {
      await timeout(5_000, () => m.r.read());
      assert.equal(m.r.atEof(), true);
      m.w.close();
    }
  });
});

test("chat client: sends the lines, prints the server's, sends /quit at the end of its input", async () => {
  await inLoop(async () => {
    await using server = await startChatServer();
    const port = portOf(server);
    const bob = await join(port, "bob");
    const printed: string[] = [];
    async function* typed(): AsyncGenerator<string> {
      yield "ada";
      await sleep(20);
      yield "hello from the client";
    }
    await chatClient({ host: "127.0.0.1", port, input: typed(), output: (l) => printed.push(l) });
    assert.equal(printed[0], "Welcome to tsaio chat! Your nickname?");
    assert.match(printed[1]!, /^Hello ada! 1 other/);
    assert.equal(await bob.next(), "* ada joined");
    assert.equal(await bob.next(), "<ada> hello from the client");
    assert.equal(await bob.next(), "* ada left");
    bob.w.close();
  });
});
