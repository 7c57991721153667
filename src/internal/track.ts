/**
 * The core's debug-mode bookkeeping and tracing hooks (creation stacks, forgotten awaits, the open
 * loops, the diagnostics channels), kept out of the hot paths: every call site checks one
 * boolean (`loop._debug`) or `channel.hasSubscribers` first, so none of this costs anything when off.
 *
 * The diagnostics channels' messages are tabled in instrument.ts, their public home.
 * Introspection (the `ps`/`pstree` server, task trees) reads this state from layer 8 (instrument.ts,
 * debug/); nothing here loads it.
 * Internal: not part of the package's public API.
 * @module
 */
import dc from "node:diagnostics_channel";
import { dirname, join, sep } from "node:path";
import { fileURLToPath } from "node:url";

// This module sits in layer 1 (ARCHITECTURE.md): the loop, futures and tasks call it, so it names
// none of them. It knows a loop and a future only by the few members it reads (structural types).

/** What tracking reads of a loop. */
export interface TrackedLoop {
  isClosed(): boolean;
  callExceptionHandler(context: { message: string; [key: string]: unknown }): void;
}

/** What tracking reads of a future: its loop and its state (0: pending). */
export interface Tracked {
  /** @internal */
  readonly _loop: TrackedLoop;
  /** @internal */
  readonly _state: number;
}

/** The diagnostics channels tsaio publishes to (see the module comment for the messages). */
export const channels = {
  taskCreated: dc.channel("tsaio:task:created"),
  taskStarted: dc.channel("tsaio:task:started"),
  taskCancel: dc.channel("tsaio:task:cancel"),
  taskFinished: dc.channel("tsaio:task:finished"),
  slow: dc.channel("tsaio:slow"),
  executorSubmitted: dc.channel("tsaio:executor:submitted"),
  executorDone: dc.channel("tsaio:executor:done"),
} as const;

/** Where a Future/Task was created (debug mode only). */
const createdAt = new WeakMap<object, string>();

interface PendingReport {
  loop: TrackedLoop;
  what: string;
  stack: string;
}

// A pending future that becomes garbage means someone dropped work on the floor: report it.
const pendingCollected = new FinalizationRegistry<PendingReport>((r) => {
  if (r.loop.isClosed()) return;
  r.loop.callExceptionHandler({ message: `${r.what} was garbage-collected while pending`, createdAt: r.stack });
});

// tsaio's own code (src/ and dist/, which source maps may show as src/): noise in a user-facing stack.
const pkgRoot = dirname(dirname(dirname(fileURLToPath(import.meta.url)))); // src/internal/track.ts → the package
const ownDirs = [join(pkgRoot, "src") + sep, join(pkgRoot, "dist") + sep];

/** The caller's stack without tsaio's own frames and Node's internals. */
export function callerStack(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 30;
  const stack = new Error().stack ?? "";
  Error.stackTraceLimit = limit;
  return stack
    .split("\n")
    .slice(1)
    .filter((l) => !ownDirs.some((d) => l.includes(d)) && !l.includes("node:internal"))
    .join("\n");
}

/** Debug mode: remember where `fut` was created and watch for it being collected while pending. */
export function trackCreation(fut: Tracked, what: string): void {
  const stack = callerStack();
  createdAt.set(fut, stack);
  pendingCollected.register(fut, { loop: fut._loop, what, stack }, fut);
}

/** Debug mode: `fut` is done, so being collected is fine now. */
export function untrack(fut: Tracked): void {
  pendingCollected.unregister(fut);
}

/** Where `fut` was created, if debug mode was on then. */
export function creationStackOf(fut: object): string | undefined {
  return createdAt.get(fut);
}

// ------------------------------------------------------------------ forgotten awaits (debug mode)
//
// CPython warns "coroutine … was never awaited". A tsaio awaitable returned by `sleep()`, `gather()`,
// `shield()` or `cancellable()` that nobody awaits is the same mistake (`sleep(10);` waits for
// nothing); and an async function still suspended on a tsaio future when its loop closes will never
// resume, so its `finally` blocks never run. Debug mode names both, with the line that created them.

interface ForgetWatch {
  /** Awaitables handed out by tsaio that nothing has awaited yet. */
  unawaited: Set<WeakRef<Tracked>>;
  /** Pending futures someone awaits. */
  awaited: Set<WeakRef<Tracked>>;
}

/** Weak everywhere: a forgotten awaitable is reported when it is collected or its loop closes. */
const watches = new WeakMap<TrackedLoop, ForgetWatch>();
const mustAwait = new WeakMap<Tracked, { what: string; ref: WeakRef<Tracked> }>();
const awaitedRef = new WeakMap<Tracked, WeakRef<Tracked>>();

interface NeverAwaited {
  loop: TrackedLoop;
  what: string;
  stack: string;
}

const neverAwaitedCollected = new FinalizationRegistry<NeverAwaited>((r) => {
  if (!r.loop.isClosed()) reportNeverAwaited(r.loop, r.what, r.stack);
});

function watchOf(loop: TrackedLoop): ForgetWatch {
  let w = watches.get(loop);
  if (w === undefined) watches.set(loop, (w = { unawaited: new Set(), awaited: new Set() }));
  return w;
}

/** Debug mode: `fut` was returned by `what` (e.g. "sleep()") and must be awaited. */
export function expectAwait(fut: Tracked, what: string): void {
  const ref = new WeakRef(fut);
  mustAwait.set(fut, { what, ref });
  watchOf(fut._loop).unawaited.add(ref);
  neverAwaitedCollected.register(fut, { loop: fut._loop, what, stack: createdAt.get(fut) ?? "" }, fut);
}

/** Debug mode: something awaits `fut` (a `then`, a done callback, a combinator). */
export function noteAwaited(fut: Tracked): void {
  const m = mustAwait.get(fut);
  if (m !== undefined) {
    mustAwait.delete(fut);
    neverAwaitedCollected.unregister(fut);
    watches.get(fut._loop)?.unawaited.delete(m.ref);
  }
  if (fut._state === 0 && !awaitedRef.has(fut)) {
    const ref = new WeakRef(fut);
    awaitedRef.set(fut, ref);
    watchOf(fut._loop).awaited.add(ref);
  }
}

/** Debug mode: `fut` is done: no await on it is left suspended. */
export function noteDone(fut: Tracked): void {
  const ref = awaitedRef.get(fut);
  if (ref !== undefined) {
    awaitedRef.delete(fut);
    watches.get(fut._loop)?.awaited.delete(ref);
  }
}

function reportNeverAwaited(loop: TrackedLoop, what: string, stack: string): void {
  loop.callExceptionHandler({
    message: `${what} was never awaited: whatever it was meant to wait for did not happen (add \`await\`, or \`void\` if that is intended)`,
    createdAt: stack,
  });
}

/** Debug mode, the loop is closing: report what was never awaited and every await that never resumed. */
export function reportForgotten(loop: TrackedLoop): void {
  const w = watches.get(loop);
  if (w === undefined) return;
  watches.delete(loop);
  for (const ref of w.unawaited) {
    const fut = ref.deref();
    const m = fut === undefined ? undefined : mustAwait.get(fut);
    if (fut === undefined || m === undefined) continue;
    mustAwait.delete(fut);
    neverAwaitedCollected.unregister(fut);
    reportNeverAwaited(loop, m.what, createdAt.get(fut) ?? "");
  }
  for (const ref of w.awaited) {
    const fut = ref.deref();
    if (fut === undefined || fut._state !== 0) continue;
    loop.callExceptionHandler({
      message: "An await on a tsaio future was still suspended when the loop closed: that async function never resumes and its finally blocks never run",
      future: fut,
      suspendedAt: createdAt.get(fut) ?? "",
    });
  }
}

/** Every open loop of the process (weakly held), for introspection. */
const loops = new Set<WeakRef<TrackedLoop>>();

/** @internal Called by the Loop constructor. */
export function registerLoop(loop: TrackedLoop): WeakRef<TrackedLoop> {
  const ref = new WeakRef(loop);
  loops.add(ref);
  return ref;
}

/** @internal Called by `loop.close()`. */
export function unregisterLoop(ref: WeakRef<TrackedLoop>): void {
  loops.delete(ref);
}

/** The open loops of this process (instrument.ts types them as Loops for introspection). */
export function openLoops(): TrackedLoop[] {
  const out: TrackedLoop[] = [];
  for (const r of loops) {
    const l = r.deref();
    if (l === undefined || l.isClosed()) loops.delete(r);
    else out.push(l);
  }
  return out;
}
