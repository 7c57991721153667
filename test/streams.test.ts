/**
 * StreamReader driven by hand (feedData/feedEof), on the virtual clock: CPython 3.13's
 * test_streams.py reader cases, cancellation (no byte lost by a cancelled or timed-out read, rule
 * (c) before touching the buffer), flow control, bad input, and a property test over random
 * chunkings, reads and cancellations.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import fc from "fast-check";
import {
  CancelledError,
  createTask,
  getRunningLoop,
  IncompleteReadError,
  InvalidStateError,
  LimitOverrunError,
  sleep,
  StreamReader,
  timeout,
  TimeoutError,
} from "../src/index.js";
import { runVirtual } from "../src/testing.js";

const DATA = Buffer.from("line1\nline2\nline3\n");
const s = (b: Buffer): string => b.toString();
/** The reader's unread bytes (asyncio's `_buffer`), for the assertions CPython makes. */
const buffered = (r: StreamReader): string => r._unread().toString();
const soon = (fn: () => void): void => void getRunningLoop().callSoon(fn);

test("read: n=0, n bytes as soon as some are there, to EOF, after EOF", async () => {
  await runVirtual(async () => {
    const r = new StreamReader();
    r.feedData(DATA);
    assert.equal((await r.read(0)).length, 0);
    assert.equal(buffered(r), s(DATA));
    const t = createTask(() => new StreamReader().read(5));
    await sleep(0);
    assert.equal(t.done(), false);
    t.cancel();
    assert.equal(s(await r.read(7)), "line1\nl");
    assert.equal(buffered(r), "ine2\nline3\n");

    const r2 = new StreamReader();
    const all = createTask(() => r2.read());
    soon(() => {
      r2.feedData("chunk1\n");
      r2.feedData("chunk2");
      r2.feedEof();
    });
    assert.equal(s(await all), "chunk1\nchunk2");
    assert.equal((await r2.read()).length, 0);
    assert.equal((await r2.read(10)).length, 0);

    const r3 = new StreamReader({ limit: 3 });
    r3.feedData("chunk");
    assert.equal(s(await r3.read(5)), "chunk", "read() is not bounded by the limit");
  });
});

test("read to EOF with more than the limit buffered, read(n) waiting, feedData of empty data", async () => {
  await runVirtual(async () => {
    const r = new StreamReader({ limit: 4 });
    const t = createTask(() => r.read());
    for (let i = 0; i < 10; i++) {
      await sleep(1);
      r.feedData("0123456789");
      r.feedData(new Uint8Array(0));
    }
    r.feedEof();
    assert.equal((await t).length, 100);
    const r2 = new StreamReader();
    const t2 = createTask(() => r2.read(30));
    soon(() => r2.feedData(DATA));
    assert.equal(s(await t2), s(DATA));
  });
});

test("readline: waits across chunks; the rest stays buffered; EOF gives the partial line, then empty", async () => {
  await runVirtual(async () => {
    const r = new StreamReader();
    r.feedData("chunk1 ");
    const t = createTask(() => r.readline());
    soon(() => {
      r.feedData("chunk2 ");
      r.feedData("chunk3 ");
      r.feedData("\n chunk4");
    });
    assert.equal(s(await t), "chunk1 chunk2 chunk3 \n");
    assert.equal(buffered(r), " chunk4");
    r.feedEof();
    assert.equal(s(await r.readline()), " chunk4");
    assert.equal((await r.readline()).length, 0);
    assert.equal(r.atEof(), true);

    const r2 = new StreamReader();
    r2.feedData(DATA.subarray(0, 6));
    r2.feedData(DATA.subarray(6));
    assert.equal(s(await r2.readline()), "line1\n");
    assert.equal(buffered(r2), "line2\nline3\n");
    assert.equal(s(await r2.read(7)), "line2\nl");
  });
});

test("readline and the limit: the line is discarded, LimitOverrunError (asyncio's ValueError), the rest stays", async () => {
  await runVirtual(async () => {
    let r = new StreamReader({ limit: 3 });
    r.feedData("li");
    r.feedData("ne1\nline2\n");
    await assert.rejects(r.readline(), LimitOverrunError);
    assert.equal(buffered(r), "line2\n");

    r = new StreamReader({ limit: 3 });
    r.feedData("li");
    r.feedData("ne1");
    r.feedData("li");
    await assert.rejects(r.readline(), LimitOverrunError);
    assert.equal(buffered(r), "", "no separator: the whole buffer is discarded");

    r = new StreamReader({ limit: 7 });
    soon(() => {
      r.feedData("chunk1");
      r.feedData("chunk2");
      r.feedData("chunk3\n");
      r.feedEof();
    });
    await assert.rejects(r.readline(), LimitOverrunError);
    assert.equal(buffered(r), "");

    r = new StreamReader({ limit: 7 });
    const r7 = r;
    soon(() => {
      r7.feedData("chunk1");
      r7.feedData("chunk2\n");
      r7.feedData("chunk3\n");
      r7.feedEof();
    });
    await assert.rejects(r.readline(), LimitOverrunError);
    assert.equal(buffered(r), "chunk3\n");

    r = new StreamReader({ limit: 7 });
    r.feedData("1234567\n");
    assert.equal(s(await r.readline()), "1234567\n", "the limit does not count the separator");
    r.feedData("12345678\n");
    await assert.rejects(r.readline(), LimitOverrunError);
    assert.equal(buffered(r), "");
    r.feedData("12345678");
    await assert.rejects(r.readline(), LimitOverrunError);
    assert.equal(buffered(r), "");
  });
});

test("readuntil: multi-byte separators across chunks, EOF, the limit (data kept), lists of separators (3.13)", async () => {
  await runVirtual(async () => {
    const r = new StreamReader();
    r.feedData("lineAAA");
    assert.equal(s(await r.readuntil("AAA")), "lineAAA");
    r.feedData("lineAAAxxx");
    assert.equal(s(await r.readuntil(Buffer.from("AAA"))), "lineAAA");
    assert.equal(buffered(r), "xxx");
    await r.read(3);
    for (const chunks of [["QWEaa", "XYaa", "a"], ["QWEaa", "XYa", "aa"], ["XXX", "a", "a", "a"]]) {
      const t = createTask(() => r.readuntil("aaa"));
      for (const c of chunks) soon(() => r.feedData(c));
      assert.equal(s(await t), chunks.join(""));
      assert.equal(buffered(r), "");
    }

    const e1 = new StreamReader();
    e1.feedData("some dataAA");
    e1.feedEof();
    const err = await e1.readuntil("AAA").catch((e: unknown) => e);
    assert.ok(err instanceof IncompleteReadError);
    assert.equal(s(err.partial), "some dataAA");
    assert.equal(err.expected, null);
    assert.equal(err.message, "11 bytes read on a total of undefined expected bytes");
    assert.equal(buffered(e1), "");

    const l = new StreamReader({ limit: 3 });
    l.feedData("some dataAA");
    await assert.rejects(l.readuntil("AAA"), (e: unknown) => e instanceof LimitOverrunError && /not found/.test(e.message));
    assert.equal(buffered(l), "some dataAA");
    l.feedData("A");
    await assert.rejects(l.readuntil("AAA"), (e: unknown) => e instanceof LimitOverrunError && /is found/.test(e.message) && e.consumed === 9);
    assert.equal(buffered(l), "some dataAAA");

    const m = new StreamReader();
    m.feedData("line 1\nline 2\r");
    assert.equal(s(await m.readuntil(["\r", "\n"])), "line 1\n");
    assert.equal(s(await m.readuntil(["\r", "\n"])), "line 2\r");
    m.feedData("ABCDEFG");
    assert.equal(s(await m.readuntil(["DEF", "BCDE"])), "ABCDE", "the first end position wins");
    assert.equal(buffered(m), "FG");

    const ml = new StreamReader({ limit: 3 });
    ml.feedData("some dataA");
    await assert.rejects(ml.readuntil(["A", "ome dataA"]), (e: unknown) => e instanceof LimitOverrunError && /is found/.test(e.message));
    assert.equal(buffered(ml), "some dataA");

    const neg = new StreamReader();
    neg.feedData("data");
    const t = createTask(() => neg.readuntil(["A", "long sep"]));
    soon(() => neg.feedData("Z"));
    soon(() => neg.feedData("Aaaa"));
    assert.equal(s(await t), "dataZA");
    assert.equal(buffered(neg), "aaa");
  });
});

test("readexactly: waits for n bytes, not bounded by the limit; EOF raises IncompleteReadError with the partial data", async () => {
  await runVirtual(async () => {
    const r = new StreamReader();
    r.feedData(DATA);
    assert.equal((await r.readexactly(0)).length, 0);
    assert.equal(buffered(r), s(DATA));
    const r2 = new StreamReader();
    const t = createTask(() => r2.readexactly(2 * DATA.length));
    soon(() => {
      r2.feedData(DATA);
      r2.feedData(DATA);
      r2.feedData(DATA);
    });
    assert.equal(s(await t), s(DATA) + s(DATA));
    assert.equal(buffered(r2), s(DATA));

    const r3 = new StreamReader({ limit: 3 });
    r3.feedData("chunk");
    assert.equal(s(await r3.readexactly(5)), "chunk");

    const r4 = new StreamReader();
    const t4 = createTask(() => r4.readexactly(36));
    soon(() => {
      r4.feedData(DATA);
      r4.feedEof();
    });
    const e = await t4.then(
      () => null,
      (x: unknown) => x,
    );
    assert.ok(e instanceof IncompleteReadError);
    assert.equal(e.message, "18 bytes read on a total of 36 expected bytes");
    assert.equal(s(e.partial), s(DATA));
    assert.equal(e.expected, 36);
    assert.equal(buffered(r4), "");
  });
});

test("setException: reads fail with it, the waiting one too; a cancelled waiter is not failed", async () => {
  await runVirtual(async () => {
    const r = new StreamReader();
    r.feedData("line\n");
    assert.equal(s(await r.readline()), "line\n");
    const boom = new RangeError("boom");
    r.setException(boom);
    assert.equal(r.exception(), boom);
    for (const read of [() => r.read(2), () => r.readline(), () => r.readexactly(2), () => r.readuntil("x")]) await assert.rejects(read(), RangeError);

    const w = new StreamReader();
    const t1 = createTask(() => w.readline());
    await sleep(0);
    w.setException(new TypeError("late"));
    await assert.rejects(t1, TypeError);

    const c = new StreamReader();
    const t2 = createTask(() => c.readline());
    await sleep(0);
    t2.cancel();
    await sleep(0);
    c.setException(new Error("message"));
    await assert.rejects(t2, CancelledError);
    assert.equal(c._waiter, null);
  });
});

test("for await over a reader yields its lines, the last partial one included", async () => {
  await runVirtual(async () => {
    const r = new StreamReader();
    const lines: string[] = [];
    const t = createTask(async () => {
      for await (const line of r) lines.push(s(line));
    });
    for (const c of ["a\nb", "\nc\n", "tail"]) {
      await sleep(1);
      r.feedData(c);
    }
    r.feedEof();
    await t;
    assert.deepEqual(lines, ["a\n", "b\n", "c\n", "tail"]);
  });
});

test("a cancelled or timed-out read loses nothing: readline, readuntil, readexactly, read(n), read()", async () => {
  await runVirtual(async () => {
    const r = new StreamReader();
    r.feedData("partial ");
    const reads: [string, () => Promise<Buffer>][] = [
      ["readline", () => r.readline()],
      ["readuntil", () => r.readuntil("\n")],
      ["readexactly", () => r.readexactly(100)],
      ["read()", () => r.read()],
    ];
    for (const [name, read] of reads) {
      await assert.rejects(
        timeout(10, () => read()),
        TimeoutError,
        name,
      );
      assert.equal(buffered(r), "partial ", `${name} left the buffer as it was`);
      const t = createTask(read);
      await sleep(1);
      t.cancel();
      await assert.rejects(t, CancelledError);
      assert.equal(buffered(r), "partial ", `${name} (cancelled) left the buffer as it was`);
    }
    // Reads with a signal: aborting cancels the wait, the data stays.
    const ac = new AbortController();
    const p = r.readline({ signal: ac.signal });
    getRunningLoop().callLater(5, () => ac.abort());
    await assert.rejects(p, CancelledError);
    await assert.rejects(r.read(1, { signal: ac.signal }), CancelledError, "an aborted signal fails at once");
    assert.equal(buffered(r), "partial ");
    r.feedData("line\n");
    assert.equal(s(await r.readline()), "partial line\n");
  });
});

test("rule (c): a task cancelled while it awaits a foreign promise raises at its next read, before touching the buffer", async () => {
  await runVirtual(async () => {
    const r = new StreamReader();
    r.feedData("one\ntwo\n");
    let release!: () => void;
    const foreign = new Promise<void>((res) => (release = res));
    const seen: string[] = [];
    const t = createTask(async () => {
      await foreign; // not a tsaio await: cancel() cannot reach it
      try {
        seen.push(s(await r.readline()));
      } catch (e) {
        seen.push((e as Error).name);
        throw e;
      }
    });
    await sleep(1);
    t.cancel();
    release();
    await assert.rejects(t, CancelledError);
    assert.deepEqual(seen, ["CancelledError"]);
    assert.equal(buffered(r), "one\ntwo\n", "the line was not taken");
  });
});

test("one waiting read at a time: a second read that must wait is an InvalidStateError", async () => {
  await runVirtual(async () => {
    const r = new StreamReader();
    const t = createTask(() => r.readline());
    await sleep(0);
    await assert.rejects(r.readexactly(3), (e: unknown) => e instanceof InvalidStateError && /readexactly\(\) called while another task is already waiting/.test(e.message));
    r.feedData("x\n");
    assert.equal(s(await t), "x\n");
  });
});

test("flow control: the transport pauses past 2 × limit and resumes at the limit, or when a read must wait", async () => {
  await runVirtual(async () => {
    const log: string[] = [];
    const r = new StreamReader({ limit: 4 });
    r._setTransport({ pause: () => log.push("pause"), resume: () => log.push("resume") });
    r.feedData("12345678");
    assert.deepEqual(log, []);
    r.feedData("9");
    assert.deepEqual(log, ["pause"]);
    r.feedData("abc");
    assert.deepEqual(log, ["pause"], "paused once");
    assert.equal(inspect(r), "<StreamReader 12 bytes limit=4 transport paused>");
    await r.read(7);
    assert.deepEqual(log, ["pause"], "5 bytes left > limit");
    await r.read(1);
    assert.deepEqual(log, ["pause", "resume"]);
    r.feedData("123456");
    assert.deepEqual(log, ["pause", "resume", "pause"]);
    const t = createTask(() => r.readexactly(20)); // more than 2 × limit: must resume to get there
    await sleep(0);
    assert.deepEqual(log, ["pause", "resume", "pause", "resume"]);
    r.feedData("x".repeat(20));
    assert.equal((await t).length, 20);
  });
});

test("inspect shows the reader's state", async () => {
  await runVirtual(async () => {
    const r = new StreamReader();
    assert.equal(inspect(r), "<StreamReader>");
    r.feedData("abc");
    assert.equal(inspect(r), "<StreamReader 3 bytes>");
    const t = createTask(() => r.readexactly(5));
    await sleep(0);
    assert.equal(inspect(r), "<StreamReader 3 bytes waiting>");
    assert.match(inspect(t), /waiting on <StreamReader 3 bytes waiting>/);
    r.feedEof();
    await assert.rejects(t, IncompleteReadError);
    assert.equal(inspect(r), "<StreamReader eof>");
    r.setException(new Error("x"));
    assert.equal(inspect(new StreamReader({ limit: 10 })), "<StreamReader limit=10>");
    assert.match(inspect(r), /exception=Error\("x"\)/);
  });
});

test("bad input is a TypeError/RangeError naming the argument; feedData after feedEof is an InvalidStateError", async () => {
  await runVirtual(async () => {
    assert.throws(() => new StreamReader({ limit: 0 }), /RangeError.*`limit`|`limit` must be >= 1/);
    assert.throws(() => new StreamReader({ limit: -1 }), RangeError);
    assert.throws(() => new StreamReader({ limit: 1.5 }), RangeError);
    assert.throws(() => new StreamReader({ limit: "1" as unknown as number }), TypeError);
    assert.throws(() => new StreamReader(5 as unknown as object), TypeError);
    const r = new StreamReader();
    r.feedData(DATA);
    assert.throws(() => r.readexactly(-1), (e: unknown) => e instanceof RangeError && /`n`/.test(e.message));
    assert.throws(() => r.read(1.5), (e: unknown) => e instanceof RangeError && /`n`/.test(e.message));
    assert.throws(() => r.read("2" as unknown as number), TypeError);
    assert.throws(() => r.readuntil(""), (e: unknown) => e instanceof RangeError && /`separator`/.test(e.message));
    assert.throws(() => r.readuntil([""]), RangeError);
    assert.throws(() => r.readuntil([]), (e: unknown) => e instanceof RangeError && /`separator`/.test(e.message));
    assert.throws(() => r.readuntil(5 as unknown as string), (e: unknown) => e instanceof TypeError && /`separator`/.test(e.message));
    assert.throws(() => r.feedData(5 as unknown as string), (e: unknown) => e instanceof TypeError && /`data`/.test(e.message));
    assert.throws(() => r.readline({ signal: "x" } as unknown as { signal: AbortSignal }), (e: unknown) => e instanceof TypeError && /`signal`/.test(e.message));
    assert.equal(buffered(r), s(DATA), "nothing consumed by refused calls");
    r.feedEof();
    assert.throws(() => r.feedData("x"), InvalidStateError);
  });
});

test("10 MB through readexactly in 64 KiB chunks, and a Uint8Array view fed in, come out intact", async () => {
  await runVirtual(async () => {
    const r = new StreamReader();
    const total = 10 * 1024 * 1024;
    const src = Buffer.alloc(total);
    for (let i = 0; i < total; i += 4) src.writeUInt32LE(i, i);
    const t = createTask(() => r.readexactly(total));
    for (let off = 0; off < total; off += 65536) {
      r.feedData(new Uint8Array(src.buffer, src.byteOffset + off, Math.min(65536, total - off)));
      if (off % (1 << 20) === 0) await sleep(0);
    }
    const got = await t;
    assert.equal(got.length, total);
    assert.ok(got.equals(src));
  });
});

// ------------------------------------------------------------------------------ property

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
type Op = { kind: "readline" } | { kind: "readuntil"; sep: string | string[] } | { kind: "readexactly"; n: number } | { kind: "read"; n: number };
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.constant({ kind: "readline" } as const),
  fc.constantFrom<string | string[]>("\r\n", "ab", ["x", "yz"], "\n").map((sep) => ({ kind: "readuntil", sep }) as const),
  fc.integer({ min: 1, max: 12 }).map((n) => ({ kind: "readexactly", n }) as const),
  // read(0) takes nothing and never waits: a program of only read(0) would spin forever.
  fc.integer({ min: -1, max: 12 }).filter((n) => n !== 0).map((n) => ({ kind: "read", n }) as const),
);

test("property: however the data is chunked, read and cancelled, every byte comes out once, in order", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.string({ unit: fc.constantFrom("a", "b", "x", "y", "z", "\r", "\n", "q"), maxLength: 80 }),
      fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 20 }),
      fc.array(fc.record({ op, cut: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }) }), { minLength: 1, maxLength: 30 }),
      async (text, sizes, ops) => {
        const data = Buffer.from(text);
        const out: Buffer[] = [];
        await runVirtual(async () => {
          const r = new StreamReader();
          const feeder = createTask(async () => {
            let off = 0;
            for (let i = 0; off < data.length; i++) {
              await sleep(2);
              const n = sizes[i % sizes.length]!;
              r.feedData(data.subarray(off, off + n));
              off += n;
            }
            await sleep(2);
            r.feedEof();
          });
          const doOp = (o: Op): Promise<Buffer> =>
            o.kind === "readline" ? r.readline() : o.kind === "readuntil" ? r.readuntil(o.sep) : o.kind === "readexactly" ? r.readexactly(o.n) : r.read(o.n);
          for (let i = 0; !r.atEof(); i++) {
            const { op: o, cut } = ops[i % ops.length]!;
            try {
              out.push(cut === undefined ? await doOp(o) : await timeout(cut, () => doOp(o)));
            } catch (e) {
              if (e instanceof IncompleteReadError) out.push(e.partial);
              else if (!(e instanceof TimeoutError)) throw e;
            }
          }
          await feeder;
        });
        assert.equal(Buffer.concat(out).toString(), text);
      },
    ),
    { numRuns: RUNS },
  );
});

test("property: readline over any chunking returns the lines of the whole", async () => {
  await fc.assert(
    fc.asyncProperty(fc.string({ unit: fc.constantFrom("a", "b", "\n"), maxLength: 60 }), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 10 }), async (text, sizes) => {
      const expected = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
      const got = await runVirtual(async () => {
        const r = new StreamReader();
        let off = 0;
        let i = 0;
        const feeder = createTask(async () => {
          while (off < text.length) {
            await sleep(1);
            const n = sizes[i++ % sizes.length]!;
            r.feedData(text.slice(off, off + n));
            off += n;
          }
          r.feedEof();
        });
        const ls: string[] = [];
        for await (const l of r) ls.push(s(l));
        await feeder;
        return ls;
      });
      assert.deepEqual(got, expected);
    }),
    { numRuns: RUNS },
  );
});
