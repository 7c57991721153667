/** The Queue's item codec keeps structured-clone semantics in both of its forms. */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { decode, encode } from "../../src/threading/codec.js";

const roundTrip = (v: unknown): unknown => decode(encode(v));

test("plain data and everything else round-trip as structuredClone would", () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const holey: number[] = [1];
  holey[2] = 3;
  const values: unknown[] = [
    null,
    undefined,
    true,
    0,
    -0,
    2 ** 31,
    -1.5,
    NaN,
    Infinity,
    "",
    "item-1",
    "é€😀",
    "\ud800 lone",
    [1, [2, [3]], { x: "y" }],
    { id: 1, name: "item-1", nested: { ok: [true, null] } },
    Object.assign(Object.create(null) as object, { k: 1 }),
    holey, // a hole: the v8 form
    new Date(7),
    new Map([[1, { a: 2 }]]),
    new Set([1n]),
    10n,
    new Uint8Array([1, 2]),
    cyclic,
    { deep: JSON.parse("[".repeat(40) + "]".repeat(40)) as unknown },
  ];
  values.forEach((v, i) => assert.deepStrictEqual(roundTrip(v), structuredClone(v), `value #${i}`));
  assert.ok(Object.is(roundTrip(-0), -0));
  const back = roundTrip(cyclic) as Record<string, unknown>;
  assert.equal(back.self, back);
});

test("what cannot be cloned throws at encode, as postMessage would", () => {
  assert.throws(() => encode({ f: () => 1 }), /could not be cloned/);
  assert.throws(() => encode([Symbol("s")]), /could not be cloned/);
});

test("property: any JSON-like value round-trips exactly (fast form)", () => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.string(), (v, s) => {
      assert.deepStrictEqual(roundTrip(v), structuredClone(v));
      assert.equal(roundTrip(s), s);
    }),
    { numRuns: 300 },
  );
});
