import assert from "node:assert/strict";
import { test } from "node:test";
import { CancelledError, createTask, getRunningLoop, retry, type RetryInfo, sleep } from "../src/index.js";
import { runVirtual } from "../src/testing.js";

const now = () => getRunningLoop().time();

class Flaky extends Error {
  override name = "Flaky";
}

test("retry: succeeds after failures, sleeping with exponential backoff (exact on the virtual clock)", async () => {
  await runVirtual(async () => {
    const calls: string[] = [];
    const r = await retry(
      async (attempt) => {
        calls.push(`${attempt}@${now()}`);
        if (attempt < 4) throw new Flaky(`#${attempt}`);
        return "ok";
      },
      { attempts: 5, backoff: 100 },
    );
    assert.equal(r, "ok");
    assert.deepEqual(calls, ["1@0", "2@100", "3@300", "4@700"]);
  });
});

test("retry: after the last attempt it throws that attempt's error; maxDelay caps the delays", async () => {
  await runVirtual(async () => {
    const delays: number[] = [];
    await assert.rejects(
      retry(
        (attempt) => {
          throw new Flaky(`#${attempt}`);
        },
        { attempts: 4, backoff: 100, factor: 3, maxDelay: 500, onRetry: (i: RetryInfo) => delays.push(i.delay) },
      ),
      (e: unknown) => e instanceof Flaky && e.message === "#4",
    );
    assert.deepEqual(delays, [100, 300, 500]);
    assert.equal(now(), 900);
  });
});

test("retry: retryIf decides; a CancelledError from fn is never retried", async () => {
  await runVirtual(async () => {
    let n = 0;
    await assert.rejects(
      retry(
        () => {
          n++;
          throw new TypeError("fatal");
        },
        { attempts: 5, retryIf: (e) => !(e instanceof TypeError) },
      ),
      TypeError,
    );
    assert.equal(n, 1);
    let m = 0;
    await assert.rejects(
      retry(
        () => {
          m++;
          throw new CancelledError("stop");
        },
        { attempts: 5, retryIf: () => true },
      ),
      CancelledError,
    );
    assert.equal(m, 1);
  });
});

test("retry: its sleeps are cancellation points — cancelling the task stops the retrying at once", async () => {
  await runVirtual(async () => {
    let n = 0;
    const t = createTask(() =>
      retry(
        () => {
          n++;
          throw new Flaky("again");
        },
        { attempts: Infinity, backoff: 1_000 },
      ),
    );
    await sleep(2_500); // attempts at 0, 1000, 3000 → two so far
    t.cancel();
    await assert.rejects(t, CancelledError);
    assert.equal(n, 2);
    assert.equal(now(), 2_500);
  });
});

test("retry: a signal stops it during a sleep or after an attempt it made fail", async () => {
  await runVirtual(async () => {
    const ac = new AbortController();
    getRunningLoop().callLater(150, () => ac.abort());
    let n = 0;
    await assert.rejects(
      retry(
        () => {
          n++;
          throw new Flaky("x");
        },
        { attempts: 10, backoff: 100, signal: ac.signal },
      ),
      CancelledError,
    );
    assert.equal(n, 2);
    assert.equal(now(), 150);
    const ac2 = new AbortController();
    await assert.rejects(
      retry(
        () => {
          ac2.abort();
          throw new Flaky("aborted by the attempt");
        },
        { signal: ac2.signal },
      ),
      Flaky,
    );
  });
});

test("retry: jitter draws from the random source; backoff may be a function", async () => {
  await runVirtual(async () => {
    const seen: number[] = [];
    const onRetry = (i: RetryInfo) => seen.push(i.delay);
    const failTwice = (attempt: number) => {
      if (attempt < 3) throw new Flaky("x");
      return attempt;
    };
    assert.equal(await retry(failTwice, { backoff: 100, jitter: "full", random: () => 0.5, onRetry }), 3);
    assert.equal(await retry(failTwice, { backoff: 100, jitter: "equal", random: () => 0.5, onRetry }), 3);
    assert.equal(await retry(failTwice, { backoff: (a) => a * 7, onRetry }), 3);
    assert.deepEqual(seen, [50, 100, 75, 150, 7, 14]);
  });
});

test("retry: bad options are refused naming the option", async () => {
  const fn = () => 1;
  await assert.rejects(retry(fn, { attempts: 0 }), { name: "RangeError", message: /`attempts`/ });
  await assert.rejects(retry(fn, { attempts: 1.5 }), { name: "RangeError", message: /`attempts`/ });
  await assert.rejects(retry(fn, { backoff: -1 }), { name: "RangeError", message: /`backoff`/ });
  await assert.rejects(retry(fn, { factor: 0.5 }), { name: "RangeError", message: /`factor`/ });
  await assert.rejects(retry(fn, { jitter: "half" as "full" }), { name: "TypeError", message: /`jitter`/ });
  await assert.rejects(retry(fn, { retryIf: 1 as unknown as () => boolean }), { name: "TypeError", message: /`retryIf`/ });
  await assert.rejects(retry(1 as unknown as () => number), { name: "TypeError", message: /`fn`/ });
  assert.equal(await retry(fn), 1);
});
