/**
 * Cancelling PostgreSQL queries from tsaio. `pg` takes no AbortSignal, and abandoning its promise
 * would leave the query running on the server, holding its connection and locks. The recipe:
 * `queryWithSignal` runs one query and, when the signal aborts, cancels it *on the server*
 * (`pg_cancel_backend(pid)` from a second, short-lived connection); `cancellableQuery` wraps it in
 * `cancellable()`, so a task's `cancel()` or its `timeout()` ends the await at once.
 *
 * Run with `npm run build && npx tsx examples/pg-cancel.ts` (DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/test). It prints what it measured and exits by itself.
 */
import { pathToFileURL } from "node:url";
import pg from "pg";
import { cancellable, createTask, currentTask, type Future, run, sleep, timeout, TimeoutError } from "tsaio";

/** A cancel is re-sent every 250 ms while the query still runs (one sent before the query reached the server does nothing), at most 20 times. */
const RESEND_MS = 250;
const MAX_CANCELS = 20;

/**
 * Runs `text` on a pooled connection of its own and, if `signal` aborts before it ends, cancels it
 * on the server; it then rejects with `signal.reason` (for a task's signal: its `CancelledError`).
 * When it settles, the query has stopped. (A connection of its own, because `pg_cancel_backend`
 * cancels whatever that connection is running; and one that was sent a cancel is closed, not
 * reused, so that a late cancel can never hit the next query on it.)
 */
export async function queryWithSignal<R extends pg.QueryResultRow = pg.QueryResultRow>(
  pool: pg.Pool,
  text: string,
  values: unknown[] = [],
  signal?: AbortSignal,
): Promise<pg.QueryResult<R>> {
  signal?.throwIfAborted();
  const client = await pool.connect();
  const pid = (client as unknown as { processID: number }).processID; // from the server's BackendKeyData
  const cancels: Promise<void>[] = [];
  let resend: NodeJS.Timeout | undefined;
  const cancel = (): void => {
    cancels.push(cancelBackend(pool.options, pid));
    if (cancels.length < MAX_CANCELS) resend = setTimeout(cancel, RESEND_MS);
  };
  try {
    signal?.throwIfAborted(); // aborted while waiting for a pooled connection
    signal?.addEventListener("abort", cancel, { once: true });
    return await client.query<R>(text, values);
  } catch (e) {
    // 57014 query_canceled: our cancel worked; report the abort the way fetch does.
    if (signal?.aborted && (e as { code?: string }).code === "57014") throw signal.reason;
    throw e;
  } finally {
    signal?.removeEventListener("abort", cancel);
    clearTimeout(resend);
    await Promise.all(cancels);
    client.release(cancels.length > 0); // true: close this connection instead of reusing it
  }
}

/** `queryWithSignal` as a tsaio cancellation point: raises `CancelledError` at once on cancel/timeout. */
export function cancellableQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(
  pool: pg.Pool,
  text: string,
  values: unknown[] = [],
): Future<pg.QueryResult<R>> {
  return cancellable((signal) => queryWithSignal<R>(pool, text, values, signal));
}

/**
 * Sends `pg_cancel_backend(pid)` from a new connection (allowed for the same role, a superuser or a
 * member of pg_signal_backend). Never rejects: a failed cancel is re-sent.
 */
async function cancelBackend(config: pg.ClientConfig, pid: number): Promise<void> {
  const c = new pg.Client({ ...config, application_name: "pg-cancel", connectionTimeoutMillis: 5_000 });
  c.on("error", () => {});
  try {
    await c.connect();
    await c.query("select pg_cancel_backend($1)", [pid]);
  } catch {
    // The server is unreachable or the backend is gone: the query fails or ends on its own.
  } finally {
    await c.end().catch(() => {});
  }
}

// ------------------------------------------------------------------------------------------ demo

async function demo(): Promise<void> {
  const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
  const app = `tsaio-pg-cancel-demo-${process.pid}`;
  const pool = new pg.Pool({ connectionString: url, application_name: app, max: 4 });
  const monitor = new pg.Client({ connectionString: url, application_name: `${app}-monitor` });
  await monitor.connect();
  /** Polls pg_stat_activity until no pg_sleep of ours is running; returns how long that took. */
  const goneAfter = async (t0: number): Promise<string> => {
    for (;;) {
      const { rows } = await monitor.query<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity where application_name = $1 and state = 'active' and query like '%pg_sleep%'",
        [app],
      );
      if (rows[0]!.n === 0) return `${Math.round(performance.now() - t0)} ms`;
      await sleep(10);
    }
  };
  const ms = (t0: number): string => `${Math.round(performance.now() - t0)} ms`;
  try {
    await run(async () => {
      console.log("1. timeout(500) around cancellableQuery(pool, 'select pg_sleep(10)')");
      let t0 = performance.now();
      try {
        await timeout(500, () => cancellableQuery(pool, "select pg_sleep(10)"));
      } catch (e) {
        if (!(e instanceof TimeoutError)) throw e;
        console.log(`   -> TimeoutError after ${ms(t0)}; the query left pg_stat_activity ${await goneAfter(t0)} after it started`);
      }

      console.log("2. a task running queryWithSignal(pool, 'select pg_sleep(10)', [], currentTask()!.signal), cancelled at 300 ms");
      const task = createTask(() => queryWithSignal(pool, "select pg_sleep(10)", [], currentTask()!.signal), { name: "report" });
      await sleep(300);
      t0 = performance.now();
      task.cancel();
      try {
        await task;
      } catch {
        console.log(`   -> task ${task.cancelled() ? "cancelled" : "failed"} ${ms(t0)} after cancel(); the query left pg_stat_activity ${await goneAfter(t0)} after cancel()`);
      }

      console.log("3. for contrast, a plain pool.query('select pg_sleep(2)') under timeout(500)");
      t0 = performance.now();
      try {
        await timeout(500, () => pool.query("select pg_sleep(2)"));
      } catch (e) {
        if (!(e instanceof TimeoutError)) throw e;
        console.log(`   -> TimeoutError only after ${ms(t0)}: the query ran to its end, holding its connection`);
      }
    });
  } finally {
    await monitor.end();
    await pool.end();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await demo();
