// Functions sent by source (a plain function given to submit/map/toThread) reach the worker as
// source text only. What they take from where they were written is refused at submit where that
// shows without a parser (a free variable read plainly, `this`, an arrow's `arguments`, `super`, a
// private member); otherwise the first run fails with a ReferenceError naming the function, the
// variable and what to do.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { ProcessPoolExecutor, run, ThreadPoolExecutor, toThread } from "../../src/index.js";
import { sourceFindings } from "../../src/executors/functions.js";

const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
after(() => pool.shutdown());

/** Outer names the functions below use, shadow or mention; none exists in a worker. */
const factor = 3;
const helper = (x: number): number => x * 2;
const offset = 10;
void offset;

/** The future was rejected at submit (no worker involved); returns its error. */
async function refusedAtSubmit(fut: PromiseLike<unknown> & { done(): boolean }): Promise<Error> {
  assert.ok(fut.done(), "refused at submit, not in the worker");
  try {
    await fut;
  } catch (e) {
    return e as Error;
  }
  assert.fail("the future did not fail");
}

describe("refused at submit", () => {
  test("a free variable: ReferenceError naming the function, the variable and what to do", async () => {
    const scale = (x: number): number => x * factor;
    const e = await refusedAtSubmit(pool.submit(scale, 2));
    assert.ok(e instanceof ReferenceError);
    assert.match(e.message, /^factor is not defined in the worker: scale, a function sent by source, reads "factor" from where it was written/);
    assert.match(e.message, /Pass it as an argument, or export scale from a worker module and use workerModule\(\)\.$/);
  });

  test("every free variable is listed; calls, arguments, templates and returns count", async () => {
    const many = (x: number): string => `${helper(x)}:${Math.max(x, factor)}`;
    const e = await refusedAtSubmit(pool.submit(many, 1));
    assert.match(e.message, /helper is not defined in the worker: many, .* reads "helper", "factor" from/);
    assert.match(e.message, /Pass them as arguments/);
  });

  test("a recursive arrow function names itself from outside: refused", async () => {
    const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));
    const e = await refusedAtSubmit(pool.submit(fact, 5));
    assert.match(e.message, /fact is not defined in the worker: fact, a function sent by source/);
  });

  test("map, submitWith, toThread-style calls and initializers are checked the same way", async () => {
    const e1 = await refusedAtSubmit(pool.submitWith({}, (x: number) => x + factor, 1));
    assert.match(e1.message, /^factor is not defined in the worker/);
    await assert.rejects(
      (async () => {
        for await (const _ of pool.map((x: number) => x * factor, [1, 2])) {
          /* nothing */
        }
      })(),
      /factor is not defined in the worker/,
    );
    assert.throws(() => new ThreadPoolExecutor({ initializer: () => helper(1) }), (e: unknown) => e instanceof ReferenceError && /^helper is not defined in the worker/.test(e.message));
    await assert.rejects(
      run(() => toThread((x: number) => x + factor, 1)),
      (e: unknown) => e instanceof ReferenceError && /^factor is not defined in the worker/.test(e.message),
    );
    const procs = new ProcessPoolExecutor({ maxWorkers: 1 });
    const e2 = await refusedAtSubmit(procs.submit((x: number) => helper(x), 1));
    assert.match(e2.message, /helper is not defined in the worker/);
    await procs.shutdown();
  });

  test("`this` (an arrow's, a method's), an arrow's `arguments`, `super` and private members", async () => {
    const obj = {
      base: 1,
      method(x: number): number {
        return x + this.base;
      },
    };
    const e1 = await refusedAtSubmit(pool.submit(obj.method, 1));
    assert.ok(e1 instanceof TypeError);
    assert.match(e1.message, /^method uses `this`, which a function sent by source does not get in the worker/);
    const arrowThis = function (this: { n: number }) {
      return () => this.n;
    }.call({ n: 1 });
    assert.match((await refusedAtSubmit(pool.submit(arrowThis))).message, /uses `this`/);
    const arrowArgs = (function (..._a: unknown[]) {
      return () => arguments.length;
    })(1, 2);
    assert.match((await refusedAtSubmit(pool.submit(arrowArgs))).message, /is an arrow function that uses `arguments` of the function it was written in/);
    class Base {
      twice(x: number): number {
        return 2 * x;
      }
    }
    class Derived extends Base {
      #secret = 5;
      override twice(x: number): number {
        return super.twice(x) + 1;
      }
      reveal(x: number): number {
        return x + this.#secret;
      }
    }
    const d = new Derived();
    assert.match((await refusedAtSubmit(pool.submit(d.twice, 1))).message, /twice uses `super` of the class it was written in/);
    assert.match((await refusedAtSubmit(pool.submit(d.reveal, 1))).message, /reveal uses a private member \(`#name`\) of the class it was written in/);
  });

  test("native and bound functions are refused at submit (before any source check)", async () => {
    assert.match((await refusedAtSubmit(pool.submit(Math.max, 1, 2))).message, /native or bound function/);
    assert.match((await refusedAtSubmit(pool.submit(((x: number) => x + factor).bind(null), 1))).message, /native or bound function/);
  });
});

describe("no false alarm: self-contained functions run", () => {
  test("shadowing, patterns, nested functions and classes, regexes, templates, labels, keys, typeof", async () => {
    const cases: [(...a: never[]) => unknown, unknown[], unknown][] = [
      [(factor: number) => factor * 2, [4], 8],
      [({ factor, helper = 1 }: { factor: number; helper?: number }) => factor + helper, [{ factor: 2 }], 3],
      [([factor, ...rest]: number[]) => factor + rest.length, [[5, 6, 7]], 7],
      [
        (n: number) => {
          function helper(k: number): number {
            return k <= 1 ? 1 : k * helper(k - 1);
          }
          return helper(n);
        },
        [5],
        120,
      ],
      [
        (n: number) => {
          class Counter {
            count = n;
            next(): number {
              return ++this.count;
            }
          }
          return new Counter().next();
        },
        [1],
        2,
      ],
      [(s: string) => s.replace(/factor\/(helper)/g, "$1").split("/").length, ["factor/helper/x"], 2],
      [(x: number) => `${x}/${"offset"}/${[x].map((factor) => factor + 1)}`, [1], "1/offset/2"],
      [
        (xs: number[]) => {
          let n = 0;
          outer: for (const x of xs) {
            for (const y of xs) {
              if (x * y > 4) break outer;
              n++;
            }
          }
          return n;
        },
        [[1, 2, 3]],
        5,
      ],
      [(x: number) => ({ factor: x, helper: x + 1, offset() { return 0; } }).helper, [1], 2],
      [(x: number) => (typeof factorInTheWorker === "undefined" ? x : -1), [9], 9],
      [
        (x: number) => {
          try {
            throw new Error(String(x));
          } catch (helper) {
            return (helper as Error).message;
          }
        },
        [7],
        "7",
      ],
      [
        function named(this: void, x: number): number {
          return x > 0 ? named(x - 1) + 1 : 0;
        },
        [3],
        3,
      ],
      [(x: number) => (x > 0 ? x / 2 / 1 : 0), [8], 4],
    ];
    for (const [fn, args, want] of cases) assert.deepEqual(await pool.submit(fn, ...(args as never[])), want, fn.toString());
  });

  test("what the lexer finds, and where it keeps silent", () => {
    const find = (f: (...a: never[]) => unknown): unknown => sourceFindings(f.toString());
    assert.deepEqual(find((xs: number[]) => xs.map((v) => v * 2).filter((w) => w > factor)), { free: ["factor"], outer: null });
    // Reads it cannot tell from bindings without a parser: silent (the worker explains them at the first run).
    assert.deepEqual(find((x: number) => [x, factor]), { free: [], outer: null });
    assert.deepEqual(find((x: number) => (x ? factor : 0)), { free: [], outer: null });
    // Source it does not lex (a `/` after `}`): no finding at all rather than a wrong one.
    assert.equal(sourceFindings("() => { if (a) {} /x/.test(b); }"), null);
    assert.deepEqual(sourceFindings("function* g() { yield factor * 2; }"), { free: ["factor"], outer: null });
    // A regular expression after a statement's head is no division: its text is not read as names.
    assert.deepEqual(sourceFindings("(s) => { if (s) /factor|helper/.test(s); return (s.length) / 2; }"), { free: [], outer: null });
    assert.deepEqual(sourceFindings("(s) => { while (s) /x/g.exec(s); return (s) / factor; }"), { free: ["factor"], outer: null });
  });
});

declare const factorInTheWorker: unknown;
declare const hidden: number;

describe("found only when it runs", () => {
  test("the first run names the function, the variable and what to do", async () => {
    // A read the lexer leaves alone (an array element): refused by the worker, explained.
    const pair = (x: number): number[] => [x, hidden];
    const fut = pool.submit(pair, 1);
    assert.ok(!fut.done(), "not refused at submit");
    await assert.rejects(fut, (e: unknown) => {
      assert.ok(e instanceof ReferenceError);
      assert.equal(
        e.message,
        `hidden is not defined (in pair, a function sent by source: it reads "hidden" from where it was written, and a worker gets only the function's source; pass hidden as an argument, or export pair from a worker module and use workerModule())`,
      );
      assert.match(String(e.stack), /^ReferenceError: hidden is not defined \(in pair/);
      return true;
    });
  });

  test("in map() chunks too", async () => {
    const pairs = (x: number): number[] => [x, hidden];
    await assert.rejects(
      (async () => {
        for await (const _ of pool.map(pairs, [1, 2, 3], { chunksize: 2 })) {
          /* nothing */
        }
      })(),
      /^ReferenceError: hidden is not defined \(in pairs, a function sent by source: it reads "hidden"/,
    );
  });

  test("an error from deeper code is not blamed on the function", async () => {
    const deeper = (x: number): unknown => (0, eval)(`notAVariable${x}`);
    await assert.rejects(pool.submit(deeper, 1), (e: unknown) => e instanceof ReferenceError && e.message === "notAVariable1 is not defined");
  });

  test("an initializer that reads an outer variable the check cannot see: its failure names the variable", async () => {
    // Inside an array literal: not seen at construction, so the worker's ReferenceError must say it.
    const init = new ThreadPoolExecutor({ maxWorkers: 1, initializer: () => void [offset] });
    try {
      await assert.rejects(init.submit((x: number) => x, 1), (e: unknown) => {
        const text = `${String(e)} ${String((e as Error).cause)}`;
        return /offset is not defined \(in initializer, a function sent by source: it reads "offset"/.test(text);
      });
    } finally {
      await init.shutdown();
    }
  });
});
