/**
 * Property test of the foreign-promise seam (issue 12, section 7), on the real clock.
 *
 * Random programs of 1–3 worker tasks mix foreign awaits (resolved promises, `.then` chains,
 * `timers/promises` setTimeout/setImmediate, `fs.promises.stat`), tsaio awaits of every kind
 * (sleep(0), sleep(n), a done Future, a pending Future set later by the loop or a Node timer —
 * awaited or through an explicit `then` —, an Event set or unset, a Lock free or held, a Queue
 * with or without items, a full bounded Queue, a Semaphore, gather, wait over tasks and over futures
 * made in its arguments, timeout scopes, nested timeouts) and synchronous calls (putNowait,
 * Event.set/clear, createTask, cancel of self or of another worker, uncancel). Cancels come from loop callbacks, Node timer callbacks, tasks resumed
 * by the loop, tasks resumed by foreign promises, the workers themselves, and timeout expiries, at
 * random moments, sometimes withdrawn with `uncancel()` at once or later. Hog tasks hold the Lock
 * and the Semaphore at random.
 *
 * A model of the rule runs alongside: every request is seen as it is made (the public
 * `tsaio:task:cancel` diagnostics channel) and classified by what the worker is doing at that moment:
 * (a)/(b) suspended on a tsaio future or queued to resume from one → that await raises; the caller is
 * the task itself → the next suspension; not started → the body never runs; (c) anything else → the
 * first tsaio call returning an awaitable raises. Invariants checked:
 *  (i)   a pending cancellation (one request or several) is raised as exactly one CancelledError, at
 *        the op the rule names, or the task ends cancelled; no CancelledError is ever raised without one;
 *  (ii)  `cancelling()` after a `timeout()` scope = its value on entry + the outside requests made
 *        during the scope − those withdrawn; `cancelling()` matches the model after every op;
 *  (iii) a task whose body settles with a request pending (in particular one that never caught
 *        CancelledError) ends cancelled; one with none pending ends with its value;
 *  (iv)  an op that raised CancelledError at the call had no effect (the Lock/Semaphore/Queue/Event
 *        state is unchanged, the timeout body never ran, gather made no child); and at the end of
 *        every schedule the Lock is free and takeable, the Semaphore has its permits back, and no
 *        Queue item was lost or duplicated.
 *
 * Where real time cannot tell two outcomes apart (a task resumed by a foreign promise cancelling one
 * that was just woken; whether wait()'s internal future was still pending when `await` reached it),
 * the model accepts both, but never zero or two CancelledErrors for one request. Promise.all over
 * tsaio awaitables is documented as inexact ("never lost, though … sees it twice") and is modelled so,
 * in a `todo` test for now (see the known bugs at the end).
 *
 * FUZZ_RUNS sets the number of schedules (default 1,000, about 7 s; `npm run fuzz` runs 100,000).
 * On failure the message lists the violations and the schedule's trace (ms since its start).
 * FOREIGN_PROPS_REPLAY=<seed>:<path> FUZZ_RUNS=1 reruns a reported counterexample (real time: the
 * interleaving may differ); FOREIGN_PROPS_STATS=1 prints how often each path of the rule was taken.
 */
import dc from "node:diagnostics_channel";
import { stat } from "node:fs/promises";
import { test } from "node:test";
import { setImmediate as immediate, setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import fc from "fast-check";
import {
  allTasks,
  CancelledError,
  createTask,
  currentTask,
  Event,
  Future,
  gather,
  getRunningLoop,
  type Handle,
  Lock,
  type Loop,
  Queue,
  Runner,
  Semaphore,
  sleep,
  type Task,
  timeout,
  type Timeout,
  TimeoutError,
  wait,
} from "../src/index.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
/** FOREIGN_PROPS_STATS=1 prints how often each path of the rule was taken (to judge the generator). */
const STATS = process.env.FOREIGN_PROPS_STATS === "1";
const stats = new Map<string, number>();
function stat1(key: string): void {
  if (STATS) stats.set(key, (stats.get(key) ?? 0) + 1);
}
const HERE = fileURLToPath(import.meta.url);

// ------------------------------------------------------------------------------------ programs

type Via = "await" | "then";
type Foreign =
  | { t: "resolved" }
  | { t: "chain"; n: number }
  | { t: "timer"; ms: number }
  | { t: "immediate" }
  | { t: "io" };
type Kid = { t: "sleep"; ms: number } | { t: "timer"; ms: number } | { t: "done" };
type Held = (Foreign | { t: "sleep"; ms: number }) & { c: boolean };
type Leaf =
  | Foreign
  | { t: "sleep"; ms: number }
  | { t: "doneFut"; via: Via }
  | { t: "pendFut"; ms: number; by: "loop" | "node"; via: Via }
  | { t: "event"; ms: number }
  | { t: "get"; ms: number }
  | { t: "put" }
  | { t: "gather"; kids: Kid[] }
  | { t: "wait"; ms: number[] }
  | { t: "waitFuts"; ms: number[] }
  // Promise.all over tsaio awaitables: in a todo test while the lost cancel() after it is open.
  | { t: "all"; ms: number[] };
type Sync =
  | { t: "putNowait" }
  | { t: "setEvent" }
  | { t: "clearEvent" }
  | { t: "spawn"; ms: number }
  | { t: "cancelSelf" }
  | { t: "uncancelSelf" }
  | { t: "cancelOther"; who: number; un: boolean }
  // Known bug: a Node timer the task itself set, cancelling it while it awaits a foreign promise.
  | { t: "nodeSelfCancel"; ms: number };
type Comp = { t: "timeout"; ms: number; body: Op[] } | { t: "lock"; body: Held[] } | { t: "sem"; body: Held[] };
/** `c`: this op catches CancelledError (raised by it or by its body) and the program goes on. */
type Op = (Leaf | Sync | Comp) & { c: boolean };

type Src = "loop" | "node" | "task" | "detached" | "main" | "timeout";
interface CancelSpec {
  at: number;
  by: Exclude<Src, "timeout">;
  who: number;
  un: "no" | "now" | "later";
  micro: number;
}
interface Schedule {
  workers: { prog: Op[]; early: "no" | "cancel" | "cancelUncancel" }[];
  cancels: CancelSpec[];
  hogs: { what: "lock" | "sem"; gap: number; hold: number }[];
  semK: number;
}
interface Features {
  all: boolean;
  waitFuts: boolean;
  nodeSelfCancel: boolean;
}

const ms3 = fc.integer({ min: 0, max: 3 });
const c = fc.boolean();
const foreignArb: fc.Arbitrary<Foreign & { c: boolean }> = fc.oneof(
  fc.record({ t: fc.constant("resolved" as const), c }),
  fc.record({ t: fc.constant("chain" as const), n: fc.integer({ min: 1, max: 4 }), c }),
  fc.record({ t: fc.constant("timer" as const), ms: ms3, c }),
  fc.record({ t: fc.constant("immediate" as const), c }),
  fc.record({ t: fc.constant("io" as const), c }),
);
const heldArb: fc.Arbitrary<Held> = fc.oneof(foreignArb, fc.record({ t: fc.constant("sleep" as const), ms: ms3, c }));
const kidArb: fc.Arbitrary<Kid> = fc.oneof(
  fc.record({ t: fc.constant("sleep" as const), ms: ms3 }),
  fc.record({ t: fc.constant("timer" as const), ms: ms3 }),
  fc.constant({ t: "done" as const }),
);
const via = fc.constantFrom<Via>("await", "then");

function tsaioArb(f: Features): fc.Arbitrary<Op> {
  const arbs: fc.Arbitrary<Op>[] = [
    fc.record({ t: fc.constant("sleep" as const), ms: fc.constantFrom(0, 0, 1, 2, 3), c }),
    fc.record({ t: fc.constant("doneFut" as const), via, c }),
    fc.record({ t: fc.constant("pendFut" as const), ms: ms3, by: fc.constantFrom<"loop" | "node">("loop", "node"), via, c }),
    fc.record({ t: fc.constant("event" as const), ms: ms3, c }),
    fc.record({ t: fc.constant("get" as const), ms: ms3, c }),
    fc.record({ t: fc.constant("put" as const), c }),
    fc.record({ t: fc.constant("gather" as const), kids: fc.array(kidArb, { minLength: 1, maxLength: 3 }), c }),
    fc.record({ t: fc.constant("wait" as const), ms: fc.array(ms3, { minLength: 1, maxLength: 2 }), c }),
  ];
  if (f.waitFuts) arbs.push(fc.record({ t: fc.constant("waitFuts" as const), ms: fc.array(ms3, { minLength: 1, maxLength: 2 }), c }));
  // Promise.all, when enabled, is as frequent as all the others together.
  if (!f.all) return fc.oneof(...arbs);
  return fc.oneof(fc.oneof(...arbs), fc.record({ t: fc.constant("all" as const), ms: fc.array(ms3, { minLength: 2, maxLength: 3 }), c }));
}

function syncArb(f: Features): fc.Arbitrary<Op> {
  const arbs: fc.Arbitrary<Op>[] = [
    fc.record({ t: fc.constant("putNowait" as const), c }),
    fc.record({ t: fc.constant("setEvent" as const), c }),
    fc.record({ t: fc.constant("clearEvent" as const), c }),
    fc.record({ t: fc.constant("spawn" as const), ms: ms3, c }),
    fc.record({ t: fc.constant("cancelSelf" as const), c }),
    fc.record({ t: fc.constant("uncancelSelf" as const), c }),
    fc.record({ t: fc.constant("cancelOther" as const), who: fc.nat(2), un: fc.boolean(), c }),
  ];
  if (!f.nodeSelfCancel) return fc.oneof(...arbs);
  return fc.oneof(fc.oneof(...arbs), fc.record({ t: fc.constant("nodeSelfCancel" as const), ms: ms3, c }));
}

function opArb(depth: number, f: Features): fc.Arbitrary<Op> {
  const comps: { arbitrary: fc.Arbitrary<Op>; weight: number }[] = [
    { arbitrary: fc.record({ t: fc.constant("lock" as const), body: fc.array(heldArb, { minLength: 1, maxLength: 2 }), c }), weight: 2 },
    { arbitrary: fc.record({ t: fc.constant("sem" as const), body: fc.array(heldArb, { minLength: 1, maxLength: 2 }), c }), weight: 1 },
  ];
  if (depth > 0) {
    comps.push({
      arbitrary: fc.record({
        t: fc.constant("timeout" as const),
        ms: fc.integer({ min: 0, max: 5 }),
        body: fc.array(opArb(depth - 1, f), { minLength: 1, maxLength: 3 }),
        c,
      }),
      weight: 3,
    });
  }
  return fc.oneof(
    { arbitrary: foreignArb, weight: 10 },
    { arbitrary: tsaioArb(f), weight: 8 },
    { arbitrary: syncArb(f), weight: 3 },
    ...comps,
  );
}

function scheduleArb(f: Features): fc.Arbitrary<Schedule> {
  return fc.record({
    workers: fc.array(
      fc.record({
        prog: fc.array(opArb(2, f), { minLength: 1, maxLength: 5 }),
        early: fc.constantFrom<"no" | "cancel" | "cancelUncancel">("no", "no", "no", "no", "no", "no", "no", "no", "cancel", "cancelUncancel"),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    cancels: fc.array(
      fc.record({
        at: fc.integer({ min: 0, max: 6 }),
        by: fc.constantFrom<CancelSpec["by"]>("loop", "node", "task", "detached"),
        who: fc.nat(2),
        un: fc.constantFrom<CancelSpec["un"]>("no", "no", "no", "now", "later"),
        micro: fc.integer({ min: 0, max: 4 }),
      }),
      { maxLength: 5 },
    ),
    hogs: fc.array(fc.record({ what: fc.constantFrom<"lock" | "sem">("lock", "sem"), gap: ms3, hold: ms3 }), { maxLength: 3 }),
    semK: fc.integer({ min: 1, max: 2 }),
  });
}

// ---------------------------------------------------------------------------------------- model

/**
 * What an in-flight op must do about the requests routed to it: `sure` raise (the request was taken
 * at the call, or its tsaio future was cancelled), `must` raise unless withdrawn (delivery when the
 * task resumes), `may` raise (withdrawn after its future was cancelled), `orCall` raise or, if it
 * completes normally, leave the request to the next tsaio call (a task resumed by a foreign promise
 * asked while this one might have just been woken: both are right).
 */
type Fate = "sure" | "must" | "orCall" | "may";
const STRENGTH: Record<Fate, number> = { may: 1, orCall: 2, must: 3, sure: 4 };
function stronger(a: Fate | null, b: Fate): Fate {
  return a !== null && STRENGTH[a] >= STRENGTH[b] ? a : b;
}
/**
 * A request not routed to an op: `start` (the task has not started: its body must never run),
 * `susp` (asked by the task itself: the next suspension), `call` (rule (c): the next tsaio call),
 * `maybeCall` (the next tsaio call may raise it, or it was merged into a raise already seen),
 * `suspOrCall` (both: the next tsaio call may raise it, else the next suspension must).
 */
type Pending = "start" | "susp" | "call" | "maybeCall" | "suspOrCall";
/** Another request that may have gone to the next call. */
function addMaybeCall(p: Pending | null): Pending {
  return p === null ? "maybeCall" : p === "susp" ? "suspOrCall" : p;
}
/** Whether the task holds an undelivered request for sure (`_mustCancel`). */
function mustCancel(p: Pending | null): boolean {
  return p === "susp" || p === "call" || p === "suspOrCall";
}
/** Sources that cannot run while a woken task's step is still in its microtasks. */
const MACRO: ReadonlySet<Src> = new Set<Src>(["loop", "node", "task", "main", "timeout"]);

interface OpRun {
  id: number;
  desc: string;
  fut: Future<unknown> | null;
  /** Cancelling its pending future always succeeds (a sleep, a plain Future), so rule (a) cannot be withdrawn. */
  sticks: boolean;
  /** wait(): it suspends on an internal future, unless the loop completed that before `await` reached `then`. */
  opaque: boolean;
  /** Promise.all over tsaio futures: a request while suspended cancels them all and is raised again at the next call. */
  members: Future<unknown>[] | null;
  yieldOp: boolean;
  registered: boolean;
  /** It took a rule-(c) request at the call: it must raise, with no effect. */
  taken: boolean;
  /** If it raises, the task's own pending request is delivered with it. */
  clearsSusp: boolean;
  fate: Fate | null;
}
interface ScopeRec {
  id: number;
  scope: Timeout | null;
  entry: number;
  ledger: number;
  balanced: boolean;
  own: boolean;
  exited: boolean;
  body: { threw: boolean; err: unknown } | null;
  expect: { k: "ok" | "prop" | "freshCancel" | "any" } | { k: "timeout"; fresh: boolean } | null;
}
type Phase = { k: "notStarted" } | { k: "between"; what?: string } | { k: "op"; op: OpRun } | { k: "scopeTail"; sc: ScopeRec };

class W {
  task!: Task<string>;
  count = 0;
  pending: Pending | null = null;
  phase: Phase = { k: "notStarted" };
  started = false;
  caught = false;
  body: { ok: true } | { ok: false; err: unknown } | null = null;
  scopes: ScopeRec[] = [];
  closing: ScopeRec[] = [];
  lastOp: OpRun | null = null;
  /** Timeout requests whose scope is not known yet: it is the one whose expired() flips right after. */
  unattributed: { scopes: ScopeRec[]; closing: ScopeRec[] }[] = [];
  constructor(readonly id: number) {}
}

type Outcome = { ok: true; v: unknown } | { ok: false; e: unknown };

let active: Sched | null = null;
let source: Src | null = null;
dc.subscribe("tsaio:task:cancel", (m) => {
  const { task, message } = m as { task: Task<unknown>; message?: string };
  active?.onRequest(task, message);
});

function exitRan(sc: ScopeRec): boolean {
  return sc.scope !== null && /<Timeout (expired|finished) /.test(inspect(sc.scope));
}

function errName(e: unknown): string {
  if (e instanceof CancelledError) return `CancelledError(${JSON.stringify(e.message)})`;
  if (e instanceof Error) return `${e.name}(${JSON.stringify(e.message)})`;
  return inspect(e);
}

/** One schedule: its primitives, workers, model and trace. */
class Sched {
  readonly loop: Loop = getRunningLoop();
  readonly t0 = performance.now();
  readonly trace: string[] = [];
  readonly violations: string[] = [];
  readonly workers: W[] = [];
  readonly byTask = new Map<Task<unknown>, W>();
  readonly seen = new WeakSet<object>();
  readonly lock = new Lock();
  readonly sem: Semaphore;
  readonly ev = new Event();
  readonly q = new Queue<number>();
  readonly bq = new Queue<number>(1);
  readonly doneFut: Future<number>;
  holder: string | null = null;
  semHolders = 0;
  qIn = 0;
  qOut = 0;
  bqIn = 0;
  bqOut = 0;
  item = 0;
  opSeq = 0;
  scopeSeq = 0;
  readonly handles: Handle[] = [];
  readonly nodeTimers: NodeJS.Timeout[] = [];
  readonly helpers: Task<unknown>[] = [];

  constructor(
    readonly s: Schedule,
    readonly f: Features,
  ) {
    this.sem = new Semaphore(s.semK);
    this.doneFut = new Future<number>();
    this.doneFut.setResult(7);
  }

  log(line: string): void {
    this.trace.push(`${(performance.now() - this.t0).toFixed(2).padStart(6)}  ${line}`);
  }

  fail(w: W | null, msg: string): void {
    const text = `${w === null ? "" : `w${w.id}: `}${msg}`;
    this.violations.push(text);
    this.log(`!! ${text}`);
  }

  // ---------------------------------------------------------------- requests and withdrawals

  onRequest(task: Task<unknown>, message: string | undefined): void {
    const w = this.byTask.get(task);
    if (w === undefined) return;
    const src: Src | null = source ?? (message === undefined ? "timeout" : null);
    if (src === null) {
      this.fail(w, `a cancel request from an unknown source (${String(message)})`);
      return;
    }
    const self = currentTask() === task && src !== "node" && src !== "loop";
    this.catchUp(w);
    w.count++;
    if (src === "timeout") w.unattributed.push({ scopes: [...w.scopes], closing: [...w.closing] });
    else for (const sc of [...w.scopes, ...w.closing]) sc.ledger++;
    const before = `${w.pending ?? "-"}${w.phase.k === "op" ? `/${w.phase.op.fate ?? "-"}` : ""}`;
    this.route(w, src, self);
    const after = `${w.pending ?? "-"}${w.phase.k === "op" ? `/${w.phase.op.fate ?? "-"}` : ""}`;
    stat1(`request ${self ? "self" : src} during ${w.phase.k === "op" ? (w.phase.op.registered ? "suspended op" : "unregistered op") : w.phase.k}: ${before} => ${after}`);
    this.log(`w${w.id} <- cancel by ${self ? "itself" : src} during ${this.phaseText(w)}: count=${w.count} ${before} => ${after}`);
  }

  private phaseText(w: W): string {
    const p = w.phase;
    if (p.k === "op") return `${p.op.desc}#${p.op.id}${p.op.registered ? " (suspended)" : ""}`;
    if (p.k === "scopeTail") return `the tail of scope s${p.sc.id}`;
    if (p.k === "between") return p.what ?? "its own code / a microtask gap";
    return "not started";
  }

  /**
   * Gives each timeout request its scope: one that has expired since (`onTimeout` marks the scope
   * right after asking). Which request goes with which scope does not change any count: only the
   * set of scopes that expired does. The request is outside for the scopes inside its own.
   */
  private attribute(w: W): void {
    for (const r of w.unattributed) {
      const i = r.scopes.findIndex((sc) => !sc.own && sc.scope !== null && sc.scope.expired());
      if (i < 0) {
        this.fail(w, "a timeout request, yet none of the task's scopes expired");
        continue;
      }
      r.scopes[i]!.own = true;
      this.log(`w${w.id}   (that timeout request was s${r.scopes[i]!.id}'s)`);
      for (const sc of [...r.scopes.slice(i + 1), ...r.closing]) sc.ledger++;
    }
    w.unattributed = [];
  }

  private route(w: W, src: Src, self: boolean): void {
    if (self) {
      // (b) The caller is the task itself: the next suspension.
      if (w.pending === null) w.pending = "susp";
      else if (w.pending === "maybeCall") w.pending = "suspOrCall";
      return;
    }
    const p = w.phase;
    if (p.k === "notStarted") {
      w.pending = "start";
      return;
    }
    if (p.k === "op" && p.op.members !== null) {
      // Promise.all over tsaio futures is documented as inexact: "never lost, though a caller that
      // catches it from Promise.all sees it twice". So: it raises, or else the next call does; a
      // second raise at the next call is allowed.
      p.op.fate = p.op.fate === "sure" ? "sure" : "orCall";
      return;
    }
    if (p.k === "op" && p.op.registered) {
      // (a)/(b) Suspended on a tsaio future, or queued to resume from it.
      const op = p.op;
      const waiting = op.fut !== null && !op.fut.done();
      if (op.opaque) {
        if (op.fate === null || op.fate === "may") op.fate = "orCall";
        else w.pending = addMaybeCall(w.pending);
      } else if (waiting || MACRO.has(src)) {
        op.fate = stronger(op.fate, waiting && op.sticks ? "sure" : "must");
      } else if (op.fate === null) {
        op.fate = "orCall";
      } else {
        w.pending = addMaybeCall(w.pending);
      }
      return;
    }
    // (c) Started, holds no tsaio future, not the caller: the next tsaio call.
    if (w.pending !== "start") w.pending = "call";
  }

  /** The model of `uncancel()`: at 0 a request not yet raised is withdrawn. */
  private modelUncancel(w: W): void {
    if (w.count === 0) return;
    w.count--;
    if (w.count > 0) return;
    w.pending = null;
    const p = w.phase;
    if (p.k === "op" && (p.op.fate === "must" || p.op.fate === "orCall")) p.op.fate = "may";
  }

  /** Brings the model up to what happened without a hook: timeout requests' scopes, a scope exit that has run. */
  private catchUp(w: W): void {
    this.attribute(w);
    // A scope whose exit has already run (the task is in the microtasks after it) exited before now.
    if (w.phase.k === "scopeTail" && !w.phase.sc.exited && exitRan(w.phase.sc)) this.applyExit(w, w.phase.sc);
  }

  /** An outside `uncancel()` (the canceller's or the task's own). */
  uncancel(w: W, why: string): void {
    if (w.task.done()) return;
    this.catchUp(w);
    const before = w.count;
    this.modelUncancel(w);
    const got = w.task.uncancel();
    this.log(`w${w.id} <- uncancel (${why}): count=${w.count}`);
    if (got !== w.count) this.fail(w, `uncancel() returned ${got}, the model has ${w.count}`);
    if (w.count < before) for (const sc of [...w.scopes, ...w.closing]) sc.ledger--;
  }

  cancel(w: W, src: Src, msg: string, un: "no" | "now" | "later"): void {
    const prev = source;
    source = src;
    let ok: boolean;
    try {
      ok = w.task.cancel(msg);
    } finally {
      source = prev;
    }
    if (!ok) return;
    if (un === "now") this.uncancel(w, "at once");
    else if (un === "later") this.handles.push(this.loop.callLater(2, () => this.uncancel(w, "later")));
  }

  // ------------------------------------------------------------------------------ op lifecycle

  private newOp(w: W, desc: string): OpRun {
    const op: OpRun = { id: ++this.opSeq, desc, fut: null, sticks: false, opaque: false, members: null, yieldOp: false, registered: false, taken: false, clearsSusp: false, fate: null };
    w.phase = { k: "op", op };
    w.lastOp = op;
    return op;
  }

  /** A pending (c) request is taken by this tsaio call. Returns whether it was. */
  private takeAtCall(w: W, op: OpRun): boolean {
    if (w.pending === "call") {
      op.fate = "sure";
      op.taken = true;
      w.pending = null;
      return true;
    }
    if (w.pending === "maybeCall" || w.pending === "suspOrCall") {
      // If this call raises, every request is delivered with it; if not, a request of the task's own remains.
      op.fate = stronger(op.fate, "may");
      w.pending = w.pending === "suspOrCall" ? "susp" : null;
      op.clearsSusp = w.pending === "susp";
    }
    return false;
  }

  /** Watches `then` on a tsaio future (called by `await` in a later microtask, or by the op itself). */
  private spyThen(w: W, op: OpRun, fut: Future<unknown>): void {
    op.fut = fut;
    const orig = fut.then;
    const sched = this;
    // An own property in front of Future.prototype.then: the same `then`, called the same way.
    (fut as { then: unknown }).then = function (this: Future<unknown>, a?: (v: unknown) => unknown, b?: (e: unknown) => unknown) {
      if (w.phase.k === "op" && w.phase.op === op) {
        if (!sched.takeAtCall(w, op) && !op.taken && !fut.done()) {
          op.registered = true;
          if (w.pending === "susp" && op.members !== null) {
            op.fate = stronger(op.fate, "orCall"); // see route(): Promise.all is inexact
            w.pending = null;
          } else if (w.pending === "susp") {
            op.fate = stronger(op.fate, op.yieldOp ? "must" : "sure");
            w.pending = null;
          }
        }
      }
      return orig.call(this, a, b);
    };
  }

  /** Settles the model for an op that completed; returns whether it raised CancelledError. */
  private complete(w: W, op: OpRun, out: Outcome): boolean {
    w.phase = { k: "between" };
    const isC = !out.ok && out.e instanceof CancelledError;
    this.log(`w${w.id} ${op.desc}#${op.id} -> ${out.ok ? "ok" : errName(out.e)} (fate ${op.fate ?? "-"})`);
    stat1(`op ${isC ? "raised" : out.ok ? "ok" : "failed"} with fate ${op.fate ?? "-"}${op.taken ? " (taken at call)" : ""}`);
    if (isC) {
      this.seen.add(out.e as object);
      if (op.members !== null) w.pending = addMaybeCall(w.pending); // Promise.all: maybe raised twice
      if (op.clearsSusp) w.pending = w.pending === "susp" ? null : w.pending === "suspOrCall" ? "maybeCall" : w.pending;
      if (op.fate === null) this.fail(w, `${op.desc}#${op.id} raised CancelledError with no request routed to it (pending: ${w.pending ?? "none"})`);
    } else {
      if (op.fate === "sure" || op.fate === "must") this.fail(w, `${op.desc}#${op.id} completed normally; the rule says it raises CancelledError`);
      if (op.fate === "orCall") w.pending = w.pending === "start" ? "start" : "call";
      if (!out.ok) this.fail(w, `${op.desc}#${op.id} raised ${errName(out.e)}`);
    }
    this.checkCount(w, `after ${op.desc}#${op.id}`);
    return isC;
  }

  private checkCount(w: W, where: string): void {
    const got = w.task.cancelling();
    if (got !== w.count) this.fail(w, `cancelling() is ${got} ${where}; the model has ${w.count}`);
  }

  /**
   * A tsaio call returning an awaitable: `call` makes it (synchronously), `snap` is the state it must
   * not change when it raises at the call, `registers` says (after the call) whether it suspended
   * the task on a tsaio waiter. Future results are watched through their `then`.
   */
  private async tsaioCall(
    w: W,
    desc: string,
    call: () => PromiseLike<unknown>,
    opts: {
      snap?: () => string;
      registers?: () => boolean;
      yieldOp?: boolean;
      spy?: Future<unknown>;
      atThen?: boolean;
      sticks?: boolean;
      opaque?: boolean;
    } = {},
  ): Promise<Outcome> {
    const op = this.newOp(w, desc);
    op.yieldOp = opts.yieldOp === true;
    op.sticks = opts.sticks === true;
    op.opaque = opts.opaque === true;
    if (opts.spy !== undefined) this.spyThen(w, op, opts.spy);
    // `await fut` on an existing future: the call is the `then` that await makes later.
    const taken = opts.atThen === true ? false : this.takeAtCall(w, op);
    const s0 = opts.snap?.();
    let aw: PromiseLike<unknown>;
    let thrown: Outcome | null = null;
    try {
      aw = call();
    } catch (e) {
      thrown = { ok: false, e }; // rule (c) raises synchronously at the call
      aw = Promise.resolve();
    }
    if (taken && opts.snap !== undefined) {
      const s1 = opts.snap();
      if (s1 !== s0) this.fail(w, `(iv) ${desc} was called with a request pending (it must raise, with no effect) but changed ${s0} into ${s1}`);
    }
    if (thrown !== null) {
      this.complete(w, op, thrown);
      return thrown;
    }
    let suspMaybe = false;
    if (op.members !== null) {
      // Promise.all: its members are watched (see "all").
    } else if (aw instanceof Future && opts.spy === undefined) this.spyThen(w, op, aw as Future<unknown>);
    else if (!taken && op.opaque) {
      op.registered = true;
      // The task's own request is raised here only if wait() really suspends (see `opaque`).
      if (w.pending === "susp") {
        op.fate = stronger(op.fate, "may");
        suspMaybe = true;
      }
    } else if (!taken && opts.registers !== undefined && opts.registers()) {
      op.registered = true;
      if (w.pending === "susp") {
        op.fate = stronger(op.fate, "sure");
        w.pending = null;
      }
    }
    if (op.yieldOp && !taken && w.pending === "susp") {
      // sleep(0) is a suspension: a request of the task's own is raised there (when the yield fires).
      op.fate = stronger(op.fate, "must");
      w.pending = null;
    }
    let out: Outcome;
    try {
      out = { ok: true, v: await aw };
    } catch (e) {
      out = { ok: false, e };
    }
    if (this.complete(w, op, out) && suspMaybe) w.pending = w.pending === "susp" ? null : w.pending === "suspOrCall" ? "maybeCall" : w.pending;
    return out;
  }

  // ----------------------------------------------------------------------------------- the ops

  private async foreign(w: W, o: Foreign): Promise<void> {
    w.phase = { k: "between", what: `foreign ${o.t}` };
    switch (o.t) {
      case "resolved":
        await Promise.resolve();
        break;
      case "chain": {
        let p: Promise<number> = Promise.resolve(0);
        for (let i = 0; i < o.n; i++) p = p.then((x) => x + 1);
        await p;
        break;
      }
      case "timer":
        await delay(o.ms);
        break;
      case "immediate":
        await immediate();
        break;
      case "io":
        await stat(HERE);
        break;
    }
    w.phase = { k: "between" };
  }

  /** Runs `ops`; a CancelledError an op does not catch ends the sequence (and is rethrown). */
  async runOps(w: W, ops: readonly Op[]): Promise<void> {
    for (const op of ops) {
      let out: Outcome;
      try {
        await this.runOp(w, op);
        continue;
      } catch (e) {
        out = { ok: false, e };
      }
      if (out.e instanceof CancelledError && op.c) {
        w.caught = true;
        this.log(`w${w.id} caught ${errName(out.e)}`);
        continue;
      }
      throw out.e;
    }
  }

  private async runOp(w: W, o: Op): Promise<void> {
    const loop = this.loop;
    let out: Outcome | null = null;
    switch (o.t) {
      case "resolved":
      case "chain":
      case "timer":
      case "immediate":
      case "io":
        await this.foreign(w, o);
        return;
      case "sleep":
        out = await this.tsaioCall(w, `sleep(${o.ms})`, () => sleep(o.ms), { yieldOp: o.ms === 0, sticks: o.ms > 0 });
        break;
      case "doneFut": {
        const fut = new Future<number>();
        fut.setResult(3);
        out =
          o.via === "await"
            ? await this.tsaioCall(w, "await doneFuture", () => fut, { spy: fut, atThen: true })
            : await this.tsaioCall(w, "doneFuture.then", () => fut.then((v) => v, (e: unknown) => Promise.reject(e)), { spy: fut });
        break;
      }
      case "pendFut": {
        const fut = new Future<number>();
        const set = (): void => {
          if (!fut.done()) fut.setResult(1);
        };
        if (o.by === "loop") this.handles.push(loop.callLater(o.ms, set));
        else this.nodeTimers.push(setTimeout(set, o.ms));
        out =
          o.via === "await"
            ? await this.tsaioCall(w, `await Future(set in ${o.ms} by ${o.by})`, () => fut, { spy: fut, atThen: true, sticks: true })
            : await this.tsaioCall(w, `Future(set in ${o.ms} by ${o.by}).then`, () => fut.then((v) => v, (e: unknown) => Promise.reject(e)), { spy: fut, sticks: true });
        // (iv) Raised at the call (the `then`): the future is neither awaited nor cancelled.
        if (!out.ok && w.lastOp!.taken && fut.cancelled()) this.fail(w, "(iv) awaiting a pending Future raised at the call but cancelled the future");
        break;
      }
      case "event": {
        const ev = this.ev;
        const wasSet = ev.isSet();
        if (!wasSet) this.handles.push(loop.callLater(o.ms, () => ev.set()));
        out = await this.tsaioCall(w, `event.wait(${wasSet ? "set" : "unset"})`, () => ev.wait(), { snap: () => inspect(ev), registers: () => !wasSet });
        break;
      }
      case "get": {
        const q = this.q;
        this.handles.push(
          loop.callLater(o.ms, () => {
            q.putNowait(++this.item);
            this.qIn++;
          }),
        );
        const n0 = q.qsize();
        out = await this.tsaioCall(w, `queue.get(qsize ${n0})`, () => q.get(), { snap: () => inspect(q), registers: () => q.qsize() !== n0 - 1 });
        if (out.ok) this.qOut++;
        break;
      }
      case "put": {
        const bq = this.bq; // a blocked put is served by the drainer (see run())
        const n0 = bq.qsize();
        out = await this.tsaioCall(w, `boundedQueue.put(${bq.full() ? "full" : "room"})`, () => bq.put(++this.item), {
          snap: () => inspect(bq),
          registers: () => bq.qsize() !== n0 + 1,
        });
        if (out.ok) this.bqIn++;
        break;
      }
      case "gather": {
        const kids = o.kids.map((k) =>
          k.t === "done" ? this.doneFut : k.t === "sleep" ? () => sleep(k.ms) : async () => void (await delay(k.ms)),
        );
        out = await this.tsaioCall(w, `gather(${o.kids.map((k) => k.t).join(",")})`, () => gather(kids), { snap: () => String(allTasks().size) });
        break;
      }
      case "wait": {
        // createTask is synchronous: it never raises, and the kids exist whatever wait() does.
        const kids = o.ms.map((m) => createTask(() => sleep(m)));
        this.helpers.push(...kids);
        out = await this.tsaioCall(w, `wait(${o.ms.length} tasks)`, () => wait(kids), { opaque: true });
        break;
      }
      case "all": {
        const call = (): Promise<unknown> => {
          const futs = o.ms.map((m) => sleep(m));
          // Promise.all reads each `then` at once: watch them before.
          const op = w.lastOp!;
          op.members = futs;
          for (const f of futs) this.spyThen(w, op, f);
          return Promise.all(futs);
        };
        out = await this.tsaioCall(w, `Promise.all(sleep ${o.ms.join(",")})`, call);
        break;
      }
      case "waitFuts": {
        out = await this.tsaioCall(w, `wait([sleep ${o.ms.join(",")}])`, () => wait(o.ms.map((m) => sleep(m))), { opaque: true });
        break;
      }
      case "putNowait":
      case "setEvent":
      case "clearEvent":
      case "spawn":
      case "cancelSelf":
      case "uncancelSelf":
      case "cancelOther":
      case "nodeSelfCancel":
        this.syncOp(w, o);
        return;
      case "timeout":
        out = await this.timeoutOp(w, o.ms, o.body);
        break;
      case "lock":
      case "sem":
        out = await this.holdOp(w, o.t, o.body);
        break;
    }
    if (out !== null && !out.ok) throw out.e;
  }

  private syncOp(w: W, o: Sync): void {
    const pendingBefore = w.pending;
    try {
      switch (o.t) {
        case "putNowait":
          this.q.putNowait(++this.item);
          this.qIn++;
          break;
        case "setEvent":
          this.ev.set();
          break;
        case "clearEvent":
          this.ev.clear();
          break;
        case "spawn":
          this.helpers.push(createTask(o.ms === 0 ? async () => void (await delay(1)) : () => sleep(o.ms)));
          break;
        case "cancelSelf":
          this.log(`w${w.id} cancels itself`);
          this.cancel(w, "detached", "self", "no");
          break;
        case "uncancelSelf":
          this.uncancel(w, "by itself");
          break;
        case "cancelOther": {
          const target = this.workers[o.who % this.workers.length]!;
          this.log(`w${w.id} cancels w${target.id}${o.un ? " and uncancels at once" : ""}`);
          this.cancel(target, "detached", `by w${w.id}`, o.un ? "now" : "no");
          break;
        }
        case "nodeSelfCancel":
          // Set from inside the task: the callback runs in the task's AsyncLocalStorage context.
          this.nodeTimers.push(setTimeout(() => this.cancel(w, "node", "node timer set by the task", "no"), o.ms));
          break;
      }
    } catch (e) {
      this.fail(w, `synchronous ${o.t} threw ${errName(e)}`);
    }
    if (o.t !== "cancelSelf" && o.t !== "uncancelSelf" && o.t !== "cancelOther" && w.pending !== pendingBefore) {
      this.fail(w, `synchronous ${o.t} changed the pending request (${pendingBefore ?? "-"} -> ${w.pending ?? "-"})`);
    }
  }

  private async holdOp(w: W, what: "lock" | "sem", body: Held[]): Promise<Outcome> {
    const lock = this.lock;
    const sem = this.sem;
    let out: Outcome;
    if (what === "lock") {
      const was = lock.locked();
      out = await this.tsaioCall(w, `lock.acquire(${was ? "held" : "free"})`, () => lock.acquire(), {
        snap: () => inspect(lock),
        registers: () => !(!was && lock.locked()),
      });
    } else {
      const v0 = sem.value;
      out = await this.tsaioCall(w, `semaphore.acquire(value ${v0})`, () => sem.acquire(), {
        snap: () => inspect(sem),
        registers: () => sem.value !== v0 - 1,
      });
    }
    if (!out.ok) return out;
    const me = `w${w.id}`;
    if (what === "lock") {
      if (this.holder !== null) this.fail(w, `acquired the lock while ${this.holder} holds it`);
      this.holder = me;
    } else if (++this.semHolders > this.s.semK) this.fail(w, `${this.semHolders} holders of a Semaphore(${this.s.semK})`);
    try {
      await this.runOps(w, body);
      return { ok: true, v: undefined };
    } catch (e) {
      return { ok: false, e };
    } finally {
      if (what === "lock") {
        this.holder = null;
        lock.release();
      } else {
        this.semHolders--;
        sem.release();
      }
    }
  }

  private async timeoutOp(w: W, ms: number, body: Op[]): Promise<Outcome> {
    const sc: ScopeRec = { id: ++this.scopeSeq, scope: null, entry: 0, ledger: 0, balanced: true, own: false, exited: false, body: null, expect: null };
    const op = this.newOp(w, `timeout(${ms}) s${sc.id}`);
    const taken = this.takeAtCall(w, op);
    let entered = false;
    let out: Outcome;
    try {
      out = {
        ok: true,
        v: await timeout(ms, async (scope) => {
          entered = true;
          sc.scope = scope;
          sc.entry = currentTask()!.cancelling();
          if (sc.entry !== w.count) this.fail(w, `cancelling() is ${sc.entry} on entering s${sc.id}; the model has ${w.count}`);
          w.scopes.push(sc);
          w.phase = { k: "between" };
          this.log(`w${w.id} enters s${sc.id} (deadline in ${ms} ms, cancelling ${sc.entry})`);
          try {
            await this.runOps(w, body);
            sc.body = { threw: false, err: undefined };
          } catch (e) {
            sc.body = { threw: true, err: e };
            throw e;
          } finally {
            w.phase = { k: "scopeTail", sc };
          }
        }),
      };
    } catch (e) {
      out = { ok: false, e };
    }
    if (!entered) {
      this.complete(w, op, out); // raised at the call (rule c): the body never ran
      return out;
    }
    this.attribute(w);
    if (taken) this.fail(w, `(iv) timeout() was called with a rule-(c) request pending (it must raise without running its body), but s${sc.id} ran`);
    if (!sc.exited) this.applyExit(w, sc);
    w.closing.splice(w.closing.indexOf(sc), 1);
    w.phase = { k: "between" };
    const ex = sc.expect!;
    const bodyErr = sc.body!.err;
    const got = out.ok ? "ok" : errName(out.e);
    this.log(`w${w.id} s${sc.id} -> ${got} (expected ${ex.k}${ex.k === "timeout" ? (ex.fresh ? " fresh" : " from the body") : ""})`);
    const isFreshC = (e: unknown): boolean => e instanceof CancelledError && !this.seen.has(e);
    let okOutcome: boolean;
    switch (ex.k) {
      case "ok":
        okOutcome = out.ok;
        break;
      case "prop":
        okOutcome = !out.ok && out.e === bodyErr;
        break;
      case "freshCancel":
        okOutcome = !out.ok && isFreshC(out.e);
        break;
      case "timeout":
        okOutcome = !out.ok && out.e instanceof TimeoutError && (ex.fresh ? isFreshC(out.e.cause) : out.e.cause === bodyErr);
        break;
      case "any":
        okOutcome = out.ok || isFreshC(out.e) || (out.e instanceof TimeoutError && isFreshC(out.e.cause));
        break;
    }
    stat1(`scope ${ex.k}${ex.k === "timeout" ? (ex.fresh ? " fresh" : "") : ""} -> ${out.ok ? "ok" : errName(out.e).replace(/\(.*/, "")}${sc.balanced ? "" : " (unbalanced)"}`);
    if (!okOutcome) this.fail(w, `s${sc.id} ended with ${got}; expected ${ex.k} (body ${sc.body!.threw ? `threw ${errName(bodyErr)}` : "returned"}, expired ${sc.scope!.expired()})`);
    if (!out.ok) {
      const e = out.e instanceof TimeoutError ? out.e.cause : out.e;
      if (e instanceof CancelledError) this.seen.add(e);
    }
    const now = w.task.cancelling();
    if (sc.balanced && now !== sc.entry + sc.ledger) {
      this.fail(w, `(ii) cancelling() is ${now} after s${sc.id}; entry ${sc.entry} + outside requests not withdrawn ${sc.ledger} = ${sc.entry + sc.ledger}`);
    }
    this.checkCount(w, `after s${sc.id}`);
    if (!out.ok && out.e instanceof TimeoutError) return { ok: true, v: undefined }; // timeouts are caught here
    return out;
  }

  /** The model of the scope's exit (`Timeout._exit`), applied when it has run. */
  applyExit(w: W, sc: ScopeRec): void {
    this.attribute(w);
    sc.exited = true;
    const i = w.scopes.indexOf(sc);
    if (i !== w.scopes.length - 1) this.fail(w, `scope s${sc.id} exits while not innermost`);
    w.scopes.splice(i, 1);
    w.closing.push(sc);
    w.phase = { k: "between" };
    const expired = sc.scope!.expired();
    if (expired !== sc.own) this.fail(w, `s${sc.id}: expired() is ${expired} but the model attributed ${sc.own ? "a" : "no"} request to it`);
    const body = sc.body!;
    if (!expired) {
      sc.expect = { k: body.threw ? "prop" : "ok" };
      return;
    }
    let cancelled = body.threw && body.err instanceof CancelledError;
    let fresh = false;
    let maybe = false;
    if (!body.threw) {
      if (mustCancel(w.pending)) cancelled = fresh = true;
      else if (w.pending === "maybeCall") maybe = true;
    }
    if (cancelled || maybe) w.pending = null; // delivered by the scope (or merged into an earlier raise)
    if (w.count === 0) for (const s of [sc, ...w.scopes]) s.balanced = false;
    this.modelUncancel(w); // the scope's own request
    if (maybe) sc.expect = { k: "any" };
    else if (cancelled && w.count <= sc.entry) sc.expect = { k: "timeout", fresh };
    else if (fresh) sc.expect = { k: "freshCancel" };
    else sc.expect = { k: body.threw ? "prop" : "ok" };
  }

  // ---------------------------------------------------------------------------------- schedule

  async run(): Promise<void> {
    const { s, loop } = this;
    s.workers.forEach((spec, i) => {
      const w = new W(i);
      this.workers.push(w);
      w.task = createTask(async () => {
        w.started = true;
        w.phase = { k: "between" };
        try {
          await this.runOps(w, spec.prog);
        } catch (e) {
          w.body = { ok: false, err: e };
          w.phase = { k: "between", what: "its body's end" };
          throw e;
        }
        w.body = { ok: true };
        w.phase = { k: "between", what: "its body's end" };
        return "done";
      });
      this.byTask.set(w.task, w);
    });
    s.workers.forEach((spec, i) => {
      if (spec.early !== "no") this.cancel(this.workers[i]!, "main", "before start", spec.early === "cancelUncancel" ? "now" : "no");
    });
    s.cancels.forEach((cs, i) => {
      const w = this.workers[cs.who % this.workers.length]!;
      const fire = (): void => this.cancel(w, cs.by, `h${i}`, cs.un);
      switch (cs.by) {
        case "loop":
          this.handles.push(loop.callLater(cs.at, fire));
          break;
        case "node":
          this.nodeTimers.push(setTimeout(fire, cs.at));
          break;
        case "task":
          this.helpers.push(
            createTask(async () => {
              await sleep(cs.at);
              fire();
            }),
          );
          break;
        case "detached":
          this.helpers.push(
            createTask(async () => {
              await delay(cs.at);
              for (let k = 0; k < cs.micro; k++) await Promise.resolve();
              fire();
            }),
          );
          break;
        default:
          break;
      }
    });
    s.hogs.forEach((h) => {
      this.helpers.push(
        createTask(async () => {
          await sleep(h.gap);
          if (h.what === "lock") {
            await this.lock.acquire();
            if (this.holder !== null) this.fail(null, `a hog acquired the lock while ${this.holder} holds it`);
            this.holder = "hog";
            await sleep(h.hold);
            this.holder = null;
            this.lock.release();
          } else {
            await this.sem.acquire();
            if (++this.semHolders > s.semK) this.fail(null, `${this.semHolders} holders of a Semaphore(${s.semK})`);
            await sleep(h.hold);
            this.semHolders--;
            this.sem.release();
          }
        }),
      );
    });

    // The bounded queue's consumer: while workers run, take an item each ms when a put waits.
    let draining = true;
    const drainer: { h: Handle | null } = { h: null };
    const drain = (): void => {
      if (!draining) return;
      if (this.bq.qsize() > 0 && /putters=/.test(inspect(this.bq))) {
        this.bq.getNowait();
        this.bqOut++;
      }
      drainer.h = loop.callLater(1, drain);
    };
    drain();

    const tasks = this.workers.map((w) => w.task);
    let stuck: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      Promise.allSettled(tasks).then(() => true),
      new Promise<false>((resolve) => {
        stuck = setTimeout(() => resolve(false), 3000);
      }),
    ]);
    clearTimeout(stuck);
    if (!finished) {
      this.fail(null, `workers still pending after 3 s: ${tasks.filter((t) => !t.done()).map((t) => inspect(t)).join(", ")}`);
      source = "main";
      for (const t of tasks) t.cancel();
      source = null;
      await Promise.allSettled(tasks);
    }
    draining = false;
    drainer.h?.cancel();
    for (const h of this.handles) h.cancel();
    for (const t of this.nodeTimers) clearTimeout(t);
    await Promise.allSettled(this.helpers);

    for (const w of this.workers) this.checkEnd(w);
    await this.checkPrimitives();
  }

  private checkEnd(w: W): void {
    const t = w.task;
    const state = t.cancelled() ? "cancelled" : t.exception() !== null ? `failed: ${errName(t.exception())}` : `result ${inspect(t.result())}`;
    this.log(`w${w.id} ended ${state} (pending ${w.pending ?? "-"}, count ${w.count})`);
    stat1(`task ended ${state.replace(/[:(].*/, "")} with pending ${w.pending ?? "-"}${w.started ? "" : " (never started)"}`);
    if (!w.started) {
      if (!t.cancelled()) this.fail(w, "the body never ran but the task is not cancelled");
      if (w.pending !== "start") this.fail(w, "the body never ran with no request made before it started");
      return;
    }
    if (w.pending === "start") this.fail(w, "a request made before the task started, yet its body ran");
    const b = w.body;
    if (b === null) {
      this.fail(w, "the body never settled");
      return;
    }
    if (!b.ok) {
      if (!(b.err instanceof CancelledError)) this.fail(w, `the body failed with ${errName(b.err)}`);
      else if (!t.cancelled()) this.fail(w, `the body raised CancelledError but the task ended ${state}`);
      return;
    }
    // (iii) The body returned: cancelled exactly when a request was still undelivered.
    if (w.pending === "maybeCall") return;
    const undelivered = mustCancel(w.pending);
    if (undelivered && !t.cancelled()) {
      this.fail(w, `(iii) the body returned with a request pending (${w.pending})${w.caught ? "" : " and never caught CancelledError"}, but the task ended ${state}`);
    }
    if (!undelivered && t.cancelled()) this.fail(w, "(iii) the body returned with no request pending, but the task ended cancelled");
    if (w.task.cancelling() !== w.count) this.fail(w, `cancelling() is ${w.task.cancelling()} at the end; the model has ${w.count}`);
  }

  private async checkPrimitives(): Promise<void> {
    const { lock, sem, q, bq } = this;
    // (iv) No op that raised CancelledError kept the lock, a permit or an item.
    if (lock.locked() || inspect(lock) !== "<Lock unlocked>") this.fail(null, `(iv) the lock ends ${inspect(lock)}`);
    else {
      try {
        await timeout(100, () => lock.acquire());
        lock.release();
      } catch (e) {
        this.fail(null, `(iv) another task cannot take the lock: ${errName(e)}`);
      }
    }
    if (sem.value !== this.s.semK || /waiters/.test(inspect(sem))) this.fail(null, `(iv) the semaphore ends ${inspect(sem)}, not value ${this.s.semK}`);
    if (q.qsize() !== this.qIn - this.qOut) this.fail(null, `(iv) queue: ${this.qIn} put, ${this.qOut} got, but qsize is ${q.qsize()}`);
    if (bq.qsize() !== this.bqIn - this.bqOut) this.fail(null, `(iv) bounded queue: ${this.bqIn} put, ${this.bqOut} taken, but qsize is ${bq.qsize()}`);
    if (/getters|putters/.test(inspect(q) + inspect(bq))) this.fail(null, `waiters left behind: ${inspect(q)} ${inspect(bq)}`);
    // gather's children may outlive it (asyncio: the first cancelled child ends the gather); they
    // only await short timers, so they must all end soon.
    let left = [...allTasks()].filter((t) => t !== currentTask());
    if (left.length > 0) {
      await Promise.race([Promise.allSettled(left), delay(500)]);
      left = left.filter((t) => !t.done());
    }
    if (left.length > 0) {
      this.fail(null, `tasks left pending: ${left.map((t) => inspect(t)).join(", ")}`);
      // Do not let them leak into the next schedule.
      source = "main";
      for (const t of left) t.cancel();
      source = null;
      await Promise.race([Promise.allSettled(left), delay(1000)]);
    }
  }
}

async function runSchedule(s: Schedule, f: Features): Promise<void> {
  const sched = new Sched(s, f);
  const loop = getRunningLoop();
  loop.setExceptionHandler((_l, ctx) => sched.fail(null, `loop exception handler: ${ctx.message} ${ctx.exception === undefined ? "" : errName(ctx.exception)}`));
  active = sched;
  try {
    await sched.run();
  } finally {
    active = null;
    loop.setExceptionHandler(null);
  }
  if (sched.violations.length > 0) {
    throw new Error(`${sched.violations.join("\n")}\n--- trace (ms since start) ---\n${sched.trace.slice(-80).join("\n")}`);
  }
}

async function check(f: Features, numRuns: number, shrink = true): Promise<void> {
  const runner = new Runner({ handleSigint: false });
  try {
    const replay = process.env.FOREIGN_PROPS_REPLAY; // "seed:path" from a failure report
    await fc.assert(
      fc.asyncProperty(scheduleArb(f), async (s) => {
        await runner.run(() => runSchedule(s, f));
      }),
      replay === undefined ? { numRuns, endOnFailure: !shrink } : { numRuns, seed: Number(replay.split(":")[0]), path: replay.split(":").slice(1).join(":"), endOnFailure: true },
    );
  } finally {
    await runner.close();
    if (STATS) console.log([...stats].sort((a, b) => a[0].localeCompare(b[0])).map(([k, n]) => `${String(n).padStart(7)}  ${k}`).join("\n"));
  }
}

const BASE: Features = { all: false, waitFuts: true, nodeSelfCancel: false };

test("foreign promises under random schedules: each request raised once where the rule says, scopes count right, no effect when raised", async () => {
  await check(BASE, RUNS);
});

// Known bugs, found by this property. They run as `todo` (reported, not failing the suite) until
// fixed; then drop `todo` (and, for Promise.all, add `all: true` to BASE).
const KNOWN_RUNS = process.env.FUZZ_RUNS === undefined ? 300 : RUNS;

test(
  "known bug: a cancel() after a Promise.all whose first member took a rule-(c) request is lost",
  { todo: "the sibling member stays registered as the task's suspension; the next request is handed to it (rule a) and never raised" },
  async () => {
    const runner = new Runner({ handleSigint: false });
    await runner.run(async () => {
      const loop = getRunningLoop();
      const lock = new Lock();
      let second = "";
      const t = createTask(async () => {
        await delay(1); // resumed by a foreign timer: outside the loop's steps
        loop.callSoon(() => t.cancel("first")); // runs before `await` reaches the members' `then`
        await Promise.all([sleep(0), sleep(50)]).catch(() => {});
        loop.callLater(5, () => t.cancel("second"));
        await delay(20); // foreign: the second request arrives here, so the next tsaio call raises it
        try {
          await lock.acquire();
          second = "acquire() succeeded";
          lock.release();
        } catch (e) {
          second = errName(e);
        }
      });
      await Promise.allSettled([t]);
      if (second !== 'CancelledError("second")') throw new Error(`the second cancel() was not raised by the next tsaio call: ${second}; cancelled() ${t.cancelled()}, cancelling() ${t.cancelling()}`);
    }).finally(() => runner.close());
  },
);
test(
  "known bug (rarely hit: ~1 in 7,000 schedules): the property with Promise.all over tsaio awaitables",
  { todo: "fails through the lost cancel() above" },
  async () => {
    await check({ ...BASE, all: true }, KNOWN_RUNS, false);
  },
);
test(
  "known bug: a Node timer set by the task itself counts as the task cancelling itself",
  { todo: "currentTaskOrNull() is the task in its AsyncLocalStorage callbacks: rule (b) is chosen instead of (c)" },
  async () => {
    await check({ ...BASE, nodeSelfCancel: true }, KNOWN_RUNS, false);
  },
);
