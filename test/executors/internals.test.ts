import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeError, encodeError } from "../../src/executors/protocol.js";
import { Inflight } from "../../src/executors/queue.js";
import { Deque } from "../../src/internal/ring.js";

test("Inflight: in-order pops, out-of-order holes, growth", () => {
  const f = new Inflight<{ _seq: number }>(2);
  for (let i = 1; i <= 10; i++) f.set(i, { _seq: i });
  assert.equal(f.size, 10);
  assert.ok(f.delete(1));
  assert.ok(f.delete(5)); // a hole
  assert.ok(!f.delete(5));
  assert.equal(f.get(5), undefined);
  assert.equal(f.get(6)?._seq, 6);
  assert.deepEqual(
    f.values().map((v) => v._seq),
    [2, 3, 4, 6, 7, 8, 9, 10],
  );
  for (const s of [2, 3, 4]) f.delete(s); // pops through the hole
  assert.deepEqual(
    f.values().map((v) => v._seq),
    [6, 7, 8, 9, 10],
  );
  f.set(11, { _seq: 11 });
  for (const s of [10, 9, 8, 7, 6, 11]) assert.ok(f.delete(s));
  assert.equal(f.size, 0);
  assert.deepEqual(f.values(), []);
});

test("Deque: push, unshift, shift keep order across growth", () => {
  const d = new Deque<number>(2);
  for (let i = 3; i < 10; i++) d.push(i);
  d.unshift(2);
  d.unshift(1);
  const out: number[] = [];
  while (d.length > 0) out.push(d.shift() as number);
  assert.deepEqual(out, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test("errors survive encoding: class, name, message, stack, cause, props, AggregateError", () => {
  const inner = new TypeError("inner");
  const e = Object.assign(new RangeError("outer", { cause: inner }), { code: "E_X", info: { n: 1 } });
  const d = decodeError(structuredClone(encodeError(e))) as RangeError & { code: string; info: unknown };
  assert.ok(d instanceof RangeError);
  assert.equal(d.message, "outer");
  assert.equal(d.stack, e.stack);
  assert.equal(d.code, "E_X");
  assert.deepEqual(d.info, { n: 1 });
  assert.ok(d.cause instanceof TypeError);
  const agg = decodeError(structuredClone(encodeError(new AggregateError([new Error("a"), 2], "both")))) as AggregateError;
  assert.ok(agg instanceof AggregateError);
  assert.equal(agg.errors.length, 2);
  assert.equal((agg.errors[0] as Error).message, "a");
  assert.equal(agg.errors[1], 2);
  assert.equal(decodeError(structuredClone(encodeError(Symbol.for("x")))), "Symbol(x)");
});
