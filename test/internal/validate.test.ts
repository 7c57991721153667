/** The argument checks of `src/internal/validate.ts`: the messages name the function, the argument and what was given. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkConcurrency, checkFunction, checkItems, describe } from "../../src/internal/validate.js";
import { imap, Lock, map } from "../../src/index.js";

test("describe: undefined reads as `undefined` (it read `undefined undefined`)", () => {
  assert.equal(describe(undefined), "undefined");
  assert.equal(describe(null), "null");
  assert.equal(describe(5), "number 5");
  assert.equal(describe(true), "boolean true");
  assert.equal(describe("x"), 'the string "x"');
  assert.equal(describe(() => 1), "a function");
  assert.equal(describe([]), "an array");
  assert.equal(describe({}), "an object");
  assert.equal(describe(Promise.resolve()), "a promise/thenable");
});

test("a missing argument is reported as `got undefined` by every check that prints it", () => {
  assert.throws(() => checkFunction(undefined, "f", "fn"), { name: "TypeError", message: "f: `fn` must be a function, got undefined" });
  assert.throws(() => new Lock().run(undefined as never), { name: "TypeError", message: "Lock.run: `fn` must be a function, got undefined" });
  assert.throws(() => imap([1], (x) => x, {} as never), {
    name: "TypeError",
    message: "imap: `concurrency` must be a number (an integer >= 1 or Infinity), got undefined",
  });
  assert.throws(() => checkItems(undefined, "map"), { name: "TypeError", message: "map: `items` must be an array, an iterable or an async iterable, got undefined" });
});

test("checkConcurrency and checkItems: the messages map, imap, forEach and the stages print", async () => {
  assert.equal(checkConcurrency(Infinity, "f"), Infinity);
  assert.equal(checkConcurrency(3, "f"), 3);
  assert.throws(() => checkConcurrency(0, "f"), { name: "RangeError", message: "f: `concurrency` must be an integer >= 1 or Infinity, got 0" });
  assert.throws(() => checkConcurrency(1.5, "f"), { name: "RangeError", message: "f: `concurrency` must be an integer >= 1 or Infinity, got 1.5" });
  assert.throws(() => checkConcurrency("2", "f"), { name: "TypeError", message: 'f: `concurrency` must be a number (an integer >= 1 or Infinity), got the string "2"' });
  assert.throws(() => checkItems(5, "g", "the source must be an iterable or an async iterable"), {
    name: "TypeError",
    message: "g: the source must be an iterable or an async iterable, got number 5",
  });
  checkItems([], "g");
  checkItems((async function* () {})(), "g");
  await assert.rejects(map(null as never, (x) => x, { concurrency: 1 }), { name: "TypeError", message: "map: `items` must be an array, an iterable or an async iterable, got null" });
});
