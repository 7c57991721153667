/**
 * W6 — a fan-out of 10,000 requests, each with a 10 ms timeout; half answer at once, half would
 * take 10 s, so their timeouts cancel them (and the cancellation must reach the request: each
 * side counts the requests that saw it, and the run fails unless that is exactly half).
 * @module
 */
import { setTimeout as nodeSleep } from "node:timers/promises";
import { Effect, Option } from "effect";
import { race, run as effectionRun, sleep as effectionSleep, spawn as effectionSpawn, type Operation, type Task as EffectionTask } from "effection";
import { CancelledError, createTask, gather, run, sleep, timeout, TimeoutError, type Task } from "../../src/index.js";
import { now, type Sample } from "../tools/lib.js";
import type { CaseDef, Side, SuiteContext, Workload } from "./model.js";

const TIMEOUT = 10;
const SLOW = 10_000;

async function work(i: number): Promise<number> {
  return i;
}

/** Results: the index, or -1 for a timeout. Throws unless exactly the odd half timed out and saw the cancellation. */
function check(rs: ArrayLike<number>, cancelled: number, n: number, who: string): void {
  let timedOut = 0;
  for (let i = 0; i < n; i++) {
    const want = i % 2 === 0 ? i : -1;
    if (rs[i] !== want) throw new Error(`W6 ${who}: request ${i} gave ${rs[i]}`);
    if (rs[i] === -1) timedOut++;
  }
  if (timedOut !== n >> 1 || cancelled !== n >> 1) throw new Error(`W6 ${who}: ${timedOut} timed out, ${cancelled} cancelled, of ${n}`);
}

function effection(n: number): Side {
  return {
  name: "Effection",
  kind: "peer",
  note: "a task per request racing the request against sleep(10); the loser is halted",
  run: () =>
    effectionRun(function* (): Operation<Sample> {
      let cancelled = 0;
      function* request(i: number): Operation<number> {
        if (i % 2 === 0) return i;
        let done = false;
        try {
          yield* effectionSleep(SLOW);
          done = true;
        } finally {
          if (!done) cancelled++;
        }
        return i;
      }
      function* expire(): Operation<number> {
        yield* effectionSleep(TIMEOUT);
        return -1;
      }
      const t0 = now();
      const ts = new Array<EffectionTask<number>>(n);
      for (let i = 0; i < n; i++) ts[i] = yield* effectionSpawn(() => race([request(i), expire()]));
      const rs = new Array<number>(n);
      for (let i = 0; i < n; i++) rs[i] = yield* ts[i];
      const ms = now() - t0;
      check(rs, cancelled, n, "Effection");
      return { ms };
    }),
};
}

function sides(n: number, ctx: SuiteContext, withEffection: boolean): Side[] {
  const out: Side[] = [
    {
      name: "AbortController",
      kind: "floor",
      note: "an AbortController and a setTimeout(abort) per request; the slow ones sleep with { signal }",
      run: async (): Promise<Sample> => {
        let cancelled = 0;
        const request = async (i: number, signal: AbortSignal): Promise<number> => {
          if (i % 2 === 0) return await work(i);
          try {
            await nodeSleep(SLOW, undefined, { signal });
          } catch (e) {
            cancelled++;
            throw e;
          }
          return i;
        };
        const withTimeout = async (i: number): Promise<number> => {
          const ac = new AbortController();
          const timer = setTimeout(() => ac.abort(), TIMEOUT);
          try {
            return await request(i, ac.signal);
          } catch (e) {
            if (ac.signal.aborted) return -1;
            throw e;
          } finally {
            clearTimeout(timer);
          }
        };
        const t0 = now();
        const ps = new Array<Promise<number>>(n);
        for (let i = 0; i < n; i++) ps[i] = withTimeout(i);
        const rs = await Promise.all(ps);
        const ms = now() - t0;
        check(rs, cancelled, n, "floor");
        return { ms };
      },
    },
    {
      name: "tsaio",
      kind: "tsaio",
      note: "a task per request running timeout(10, request); gather()",
      run: () =>
        run(async (): Promise<Sample> => {
          let cancelled = 0;
          const request = async (i: number): Promise<number> => {
            if (i % 2 === 0) return await work(i);
            try {
              await sleep(SLOW);
            } catch (e) {
              if (e instanceof CancelledError) cancelled++;
              throw e;
            }
            return i;
          };
          const withTimeout = async (i: number): Promise<number> => {
            try {
              return await timeout(TIMEOUT, () => request(i));
            } catch (e) {
              if (e instanceof TimeoutError) return -1;
              throw e;
            }
          };
          const t0 = now();
          const ts = new Array<Task<number>>(n);
          for (let i = 0; i < n; i++) ts[i] = createTask(() => withTimeout(i));
          const rs = await gather(ts);
          const ms = now() - t0;
          check(rs, cancelled, n, "tsaio");
          return { ms };
        }),
    },
    {
      name: "Effect",
      kind: "peer",
      note: "Effect.forEach(…, { concurrency: \"unbounded\" }) over request.pipe(Effect.timeoutOption(10))",
      run: () =>
        Effect.runPromise(
          Effect.gen(function* () {
            let cancelled = 0;
            const request = (i: number): Effect.Effect<number> =>
              i % 2 === 0
                ? Effect.promise(() => work(i))
                : Effect.sleep(SLOW).pipe(
                    Effect.as(i),
                    Effect.onInterrupt(() =>
                      Effect.sync(() => {
                        cancelled++;
                      }),
                    ),
                  );
            const ids = Array.from({ length: n }, (_, i) => i);
            const t0 = now();
            const rs = yield* Effect.forEach(ids, (i) => request(i).pipe(Effect.timeoutOption(TIMEOUT), Effect.map(Option.getOrElse(() => -1))), { concurrency: "unbounded" });
            const ms = now() - t0;
            check(rs, cancelled, n, "Effect");
            return { ms };
          }),
        ),
    },
  ];
  if (withEffection) out.splice(2, 0, effection(n));
  const py = ctx.python;
  if (py !== null) out.push({ name: "CPython asyncio", kind: "python", warmup: false, note: "asyncio.timeout(0.01) around each request, asyncio.gather", run: () => py("fanout", n, TIMEOUT, SLOW) });
  return out;
}

export const w6: Workload = {
  id: "W6",
  title: "fan-out with per-request timeouts",
  description:
    `n requests (10,000 in W6a, 1,000 in W6b) started at once, each under its own ${TIMEOUT} ms timeout. Even requests answer at once; odd ones would take ${SLOW / 1000} s, so their timeout fires and must cancel them: ` +
    "every side counts the requests that observed the cancellation, and a run fails unless exactly half timed out and were cancelled. " +
    `The wall time (at least the ${TIMEOUT} ms timeout) is from the first request to the last result. ` +
    "Only systems that can cancel work take part: p-limit, p-queue and async-mutex cannot.",
  async cases(ctx): Promise<CaseDef[]> {
    const kase = (id: string, n: number, notes: string[]): CaseDef => ({
      id,
      workload: "W6",
      title: `${n.toLocaleString("en")} requests, half cancelled by a ${TIMEOUT} ms timeout`,
      metric: "ms",
      unit: "ms",
      floor: "AbortController",
      sides: sides(n, ctx, n <= 1_000),
      goals: [],
      notes,
    });
    return [
      kase("W6a", 10_000, ["Effection is in W6b only: 10,000 of its requests take about 8 s per round here."]),
      kase("W6b", 1_000, ["The same fan-out at 1,000 requests, where Effection can take part; the 10 ms timeout is a larger share of the wall time."]),
    ];
  },
};
