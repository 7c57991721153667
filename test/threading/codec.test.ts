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

test("each form's edges: int sizes, long and wide strings, __proto__ keys, key-cache collisions, big items, typed arrays not aliased", () => {
  const ints = [0, 1, 255, 256, -1, -256, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 0.5, -0];
  for (const v of ints) assert.ok(Object.is(roundTrip(v), v), `number ${v}`);
  const strings = ["", "a", "abc", "abcd", "abcde", "x".repeat(24), "y".repeat(25), "é".repeat(100), "€", "a€".repeat(40), "\udc00", "ab\ud800"];
  for (const s of strings) assert.equal(roundTrip(s), s, `string ${JSON.stringify(s)}`);
  // "__proto__" as an own key stays a key (no prototype change), as structuredClone keeps it.
  const proto = JSON.parse('{"__proto__": {"polluted": 1}, "a": 2}') as Record<string, unknown>;
  const back = roundTrip(proto) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(back), Object.prototype);
  assert.deepEqual(Object.keys(back), ["__proto__", "a"]);
  assert.equal((back as { polluted?: number }).polluted, undefined);
  // Keys of one length with the same first and last byte share a cache slot: each must come back as itself.
  // ("abc\\" and "abc" too: a longer key whose first bytes match, in the same slot.)
  const keys = ["axz", "ayz", "abz", "a€z", "a".repeat(33), "abc\\", "abc"];
  for (let i = 0; i < 3; i++) for (const k of keys) assert.deepEqual(Object.keys(roundTrip({ [k]: i }) as object), [k]);
  // Bigger than the scratch buffers (4 KiB): they grow.
  const big = { s: "z".repeat(10_000), a: Array.from({ length: 2000 }, (_, i) => i) };
  assert.deepEqual(roundTrip(big), big);
  // v8's deserializer returns typed arrays that view its input: a decoded one must not change when the next item is decoded.
  const first = roundTrip(new Uint8Array([1, 2, 3])) as Uint8Array;
  roundTrip(new Uint8Array([9, 9, 9]));
  assert.deepEqual([...first], [1, 2, 3]);
  // encode() returns a copy: the next encode does not change it.
  const bytes = encode({ id: 1 });
  const copy = Uint8Array.from(bytes);
  encode({ id: 2 });
  assert.deepEqual(bytes, copy);
});

test("a getter that puts another item while its object is encoded; keys Object.prototype has are defined, not assigned", async () => {
  const { Queue } = await import("../../src/threading/index.js");
  const q = new Queue<unknown>();
  const outer = {
    a: "outer-a",
    get b(): string {
      q.putNowait({ inner: "x".repeat(300) }); // a nested encode, larger than its first buffer
      return "outer-b";
    },
    c: [1, 2, 3],
  };
  q.putNowait(outer);
  assert.deepEqual(q.getNowait(), { inner: "x".repeat(300) });
  assert.deepEqual(q.getNowait(), { a: "outer-a", b: "outer-b", c: [1, 2, 3] });
  // A setter added to Object.prototype is not called by decoding; the key becomes an own data property.
  let called = 0;
  Object.defineProperty(Object.prototype, "tsaioTestKey", { set: () => void called++, configurable: true });
  try {
    const back = roundTrip({ tsaioTestKey: 5, toString: 6 }) as Record<string, unknown>;
    assert.equal(called, 0);
    assert.deepEqual(Object.getOwnPropertyDescriptor(back, "tsaioTestKey"), { value: 5, writable: true, enumerable: true, configurable: true });
    assert.equal(back.toString, 6);
  } finally {
    delete (Object.prototype as Record<string, unknown>).tsaioTestKey;
  }
});
