/**
 * The wire protocol between an executor and its workers, and how errors and transfer lists cross it.
 *
 * ## Messages
 * Main → worker: one message is a *batch*, a flat array of operations, each a fixed number of slots:
 * - `OP_DEFINE, id, kind, a, b` — function `id` is export `b` of module URL `a` (`kind` 0), or the
 *   self-contained source `a` named `b` (`kind` 1). Sent once per worker before the first job using it.
 * - `OP_JOB, seq, fnId, args, flags, vi` — run function `fnId` on `args` (`flags`: {@link F_TIMED} asks
 *   for a start notice, {@link F_CHUNK} runs the function over each item of `args[0]`); `vi` is the
 *   job's entry in a thread worker's veto table (see "Vetoes" below; -1 for process workers).
 * - `OP_CANCEL, seq, message` — cancel job `seq`: drop it if it has not started, else cancel its task.
 *
 * Worker → main: one small array per event, posted at once (never buffered), so a worker that dies
 * loses no result it already produced: `R_OK, seq, value` · `R_ERR, seq, error` · `R_CANCELLED, seq` ·
 * `R_STARTED, seq` · `R_READY` · `R_INIT_FAILED, error` · `R_RETIRE, heapUsed, ...returnedSeqs` ·
 * `R_RETURN, ...returnedSeqs` · `R_FATAL, error` (a process worker's last words).
 *
 * Batching goes one way only: the main thread batches the jobs it submits in one tick (it keeps every
 * job until its outcome arrives, so a batch lost with a dying worker is simply re-queued), and reads
 * all pending results in one go with `receiveMessageOnPort`.
 * Internal: not part of the package's public API.
 * @module
 */
import type { MessagePort as NodeMessagePort, TransferListItem } from "node:worker_threads";
import { BrokenExecutorError, CancelledError, InvalidStateError, TimeoutError } from "../errors.js";

export const OP_DEFINE = 1;
export const OP_JOB = 2;
export const OP_CANCEL = 3;
/** Slots of each operation in a batch. */
export const DEFINE_LEN = 5;
export const JOB_LEN = 6;
export const CANCEL_LEN = 3;

export const F_TIMED = 1;
export const F_CHUNK = 2;
/** Some argument is a tsaio/threading primitive in its wire form: revive the arguments (see {@link reviveShared}). */
export const F_SHARED = 4;

export const R_OK = 1;
export const R_ERR = 2;
export const R_CANCELLED = 3;
export const R_STARTED = 4;
export const R_READY = 5;
export const R_INIT_FAILED = 6;
export const R_RETIRE = 7;
export const R_RETURN = 8;
export const R_FATAL = 9;

export const R_BELL = 10;
/** `R_OK_SHARED, seq, value`: a result holding wire forms (see {@link wireDeep}), revived by the pool. */
export const R_OK_SHARED = 11;

/** ctl[0] of a thread worker: the seq of the job it runs, 0 when between jobs, DOOMED once condemned. */
export const DOOMED = -1;

// ------------------------------------------------------------------------------ the results ring
//
// A thread worker shares one SharedArrayBuffer with the pool: a header of Int32s (CTL_* below) and
// a single-producer/single-consumer ring where the worker writes results that are plain numbers,
// booleans, null or undefined (most CPU jobs): `seq, tag` in an Int32 pair, the number in a Float64.
// A result in the ring is committed the moment the worker publishes the new tail, so a worker that
// dies right after loses nothing; yet the pool reads hundreds of results per wake-up without a
// message (and its deserialization) each. The worker rings a doorbell (a tiny message) only when
// the pool is not already due to look: it sets CTL_BELL from 0 to 1 and posts `[R_BELL]`; the pool
// reads the ring, clears the bell, and reads again if the tail moved meanwhile. Anything else (objects,
// strings, errors, a full ring) travels by message as before.
//
// Waking an idle worker: a thread sleeping in its event loop wakes through libuv, which on some
// machines costs tens of µs more than a futex. So an idle thread worker whose event loop has nothing
// else to do (no timer, socket or other port of its own) blocks in `Atomics.wait` on CTL_WAKE, for
// at most IDLE_BLOCK_MS at a time; the pool bumps and notifies CTL_WAKE after posting, and the
// worker takes the batch with `receiveMessageOnPort`.
//
// Vetoes: a job pipelined into a thread worker waits there behind the running one, and a worker in
// a synchronous job reads no message — so an OP_CANCEL alone arrives too late to stop it. The pool
// cancels a job that has not started by writing its seq into the veto table (entry `vi`, given with
// the job) and then reading CTL_RUNNING; the worker starts a job by compare-exchanging CTL_RUNNING
// from 0 to its seq and then reading its veto entry. Both sides write, then read (sequentially
// consistent Atomics), so at least one sees the other: either the pool sees the job running (and
// cancels it as a running job), or the worker sees the veto (and reports the job cancelled without
// starting it) — never neither. A worker holds at most MAX_PIPELINE jobs, taken in send order, so
// an entry is never reused while its job is still in the worker.

/** Header slots (Int32 indices). */
export const CTL_RUNNING = 0;
export const CTL_TAIL = 1;
export const CTL_HEAD = 2;
export const CTL_BELL = 3;
/** Bumped (and notified) by the pool after each batch it posts: an idle worker blocked on it wakes. */
export const CTL_WAKE = 4;
const HEADER_INTS = 8; // (a multiple of 2: the Float64 region must be 8-byte aligned)
/** Ring entries (a power of two). */
export const RING_SIZE = 1024;
export const RING_MASK = RING_SIZE - 1;
/** Most jobs a thread worker holds at once (the pool's pipelining depth never exceeds it). */
export const MAX_PIPELINE = 1024;
/** Veto table entries (a power of two, above MAX_PIPELINE). */
export const VETO_SIZE = 2048;
export const VETO_MASK = VETO_SIZE - 1;
/** Ring entry tags. */
export const T_NUMBER = 1;
export const T_TRUE = 2;
export const T_FALSE = 3;
export const T_NULL = 4;
export const T_UNDEFINED = 5;

/** Views on a worker's shared control buffer. */
export interface SharedControl {
  hdr: Int32Array;
  ringInts: Int32Array;
  ringNums: Float64Array;
  /** The veto table: entry `vi` holds the seq of a job that must not start. */
  vetoes: Int32Array;
}

/** Allocates the control buffer of one thread worker. */
export function newControlBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER_INTS * 4 + RING_SIZE * 8 + RING_SIZE * 8 + VETO_SIZE * 4);
}

/** The views on a control buffer (made on each side). */
export function controlViews(sab: SharedArrayBuffer): SharedControl {
  const ring = HEADER_INTS * 4;
  const nums = ring + RING_SIZE * 8;
  return {
    hdr: new Int32Array(sab, 0, HEADER_INTS),
    ringInts: new Int32Array(sab, ring, RING_SIZE * 2),
    ringNums: new Float64Array(sab, nums, RING_SIZE),
    vetoes: new Int32Array(sab, nums + RING_SIZE * 8, VETO_SIZE),
  };
}

/** A function definition as sent to a worker. */
export interface FnDef {
  kind: 0 | 1;
  /** Module URL (kind 0) or source text (kind 1). */
  a: string;
  /** Export name (kind 0) or display name (kind 1). */
  b: string;
}

/** What a worker receives when it starts (workerData for threads, the first IPC message for processes). */
export interface WorkerInit {
  kind: "thread" | "process";
  /** URL of the worker entry module. */
  entry: string;
  /** URL of tsx's ESM register API, when the parent runs under tsx (see bootstrap.ts). */
  tsxApi: string | null;
  initializer: FnDef | null;
  initargs: unknown[];
  /** Recycle the worker between jobs once its used heap exceeds this many bytes (0: never). */
  maxHeapUsed: number;
  /** Thread workers: the port the jobs and results travel on. */
  port?: NodeMessagePort;
  /** Thread workers: the control buffer shared with the pool (running job, results ring, vetoes). */
  control?: SharedArrayBuffer;
  /** Process workers: the pool's pid (a worker whose parent changes has lost it, and dies). */
  parentPid?: number;
}

// ------------------------------------------------------------------------------ transfer lists

const TRANSFER = Symbol.for("tsaio.executors.transfer");
/**
 * @internal The one symbol the pool reads on an object argument: `true` on a transfer marker; on a
 * tsaio/threading primitive, a method returning its {@link SharedArg} wire form. One property read
 * serves both, so arguments without either cost what they cost before.
 */
export const ARG_TAG: typeof TRANSFER = TRANSFER;

/** @internal A value marked for zero-copy hand-off (see {@link transfer}). */
export interface TransferMarker {
  readonly [TRANSFER]: true;
  readonly value: unknown;
  readonly transferList: readonly TransferListItem[];
}

/**
 * Marks `value` to be *moved* (not copied) to or from a worker: the objects in `transferList`
 * (ArrayBuffers, MessagePorts…) are transferred and become unusable on the sending side. Use it on an
 * argument of `submit` or on a worker function's return value. The return type is `T`, so typing is
 * unchanged. (`SharedArrayBuffer`s need no marking: they are shared, never copied, with thread workers.)
 * @example
 * ```ts
 * import { ThreadPoolExecutor, transfer, workerModule } from "tsaio";
 * const jobs = workerModule<typeof import("./jobs.js")>(new URL("./jobs.js", import.meta.url));
 * await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
 * const bytes = new Uint8Array(1 << 20);
 * const digest = await pool.submit(jobs.fns.sha256, transfer(bytes, [bytes.buffer]));
 * // `bytes` moved to the worker: it is empty here now
 * console.log(digest.slice(0, 8), bytes.byteLength); // 30e14955 0
 * ```
 */
export function transfer<T>(value: T, transferList: readonly TransferListItem[]): T {
  if (!Array.isArray(transferList)) throw new TypeError("transfer: `transferList` must be an array of transferable objects");
  const m: TransferMarker = { [TRANSFER]: true, value, transferList };
  return m as unknown as T;
}

/** @internal */
export function isTransferMarker(v: unknown): v is TransferMarker {
  return typeof v === "object" && v !== null && (v as { [TRANSFER]?: unknown })[TRANSFER] === true;
}

// ------------------------------------------------------------------------------ shared primitives

/**
 * @internal An object that crosses to a worker as a handle and is revived there as a working
 * object: a tsaio/threading primitive (a handle on a SharedArrayBuffer: threads only), or a
 * tsaio/multiprocessing connection, queue or manager proxy (`process: true`: its handle is plain
 * data — an address and a key — so process workers take it too). `$tsaioShared` is the URL of the
 * module that revives it (it registers a reviver in a per-thread table when it loads). The
 * executors know nothing else of these objects.
 */
export interface SharedArg {
  $tsaioShared: string;
  h: { kind: string };
  /** The handle is plain data any process can use. */
  process?: boolean;
}

type Reviver = (h: unknown) => unknown;

const REVIVERS = Symbol.for("tsaio.threading.revivers");

function revivers(): Map<string, Reviver> | undefined {
  return (globalThis as unknown as Record<symbol, Map<string, Reviver> | undefined>)[REVIVERS];
}

/**
 * @internal The cheap check before a deep scan: whether any module able to make such objects is
 * loaded in this thread (each registers its reviver when it loads). A program that uses neither
 * tsaio/threading nor tsaio/multiprocessing never pays for a scan.
 */
export function mayHoldShared(): boolean {
  const t = revivers();
  return t !== undefined && t.size > 0;
}

function isSharedArg(a: unknown): a is SharedArg {
  return typeof a === "object" && a !== null && typeof (a as SharedArg).$tsaioShared === "string";
}

/**
 * @internal An optional method of an object passed as a handle, called once the job it was given to
 * has ended (however: result, error, cancellation, crash). A moved Pipe end uses it to learn that no
 * worker will ever connect for it, so its peer is not left waiting.
 */
export const JOB_DONE: unique symbol = Symbol.for("tsaio.executors.jobDone") as never;

/** Nested containers deeper than this are not scanned (their objects go by plain structured clone). */
const MAX_DEPTH = 32;

function isPlainContainer(v: object): boolean {
  if (Array.isArray(v)) return true;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * @internal Replaces each tagged object (see {@link ARG_TAG}) nested in arrays and plain objects of
 * `v` by its wire form, copying only the containers on the way to one (the caller's objects are
 * never changed); returns `v` itself when there is none. Maps, Sets and class instances are not
 * entered. `where(w, nested)` returns an error for a wire form that may not go (a thread-only handle
 * bound for a process), which is thrown.
 */
export function wireDeep(v: unknown, where: (w: SharedArg, nested: boolean, obj: object) => Error | null, depth = 0, seen?: Set<object>): unknown {
  if (typeof v !== "object" || v === null) return v;
  const tag = (v as { [ARG_TAG]?: unknown })[ARG_TAG];
  if (typeof tag === "function") {
    const wire = (tag as () => SharedArg).call(v);
    const bad = where(wire, depth > 0, v);
    if (bad !== null) throw bad;
    return wire;
  }
  if (tag !== undefined || depth >= MAX_DEPTH || ArrayBuffer.isView(v) || !isPlainContainer(v)) return v;
  // Shared or cyclic containers: tracked from the second level down (a flat argument allocates nothing).
  const s = depth < 2 ? seen : (seen ?? new Set<object>());
  if (s !== undefined) {
    if (s.has(v)) return v;
    s.add(v);
  }
  if (Array.isArray(v)) {
    let copy: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x !== "object" || x === null) continue;
      const y = wireDeep(x, where, depth + 1, s);
      if (y !== x) (copy ??= v.slice() as unknown[])[i] = y;
    }
    return copy ?? v;
  }
  let out: Record<string, unknown> | null = null;
  {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      const x = o[k];
      if (typeof x !== "object" || x === null) continue;
      const y = wireDeep(x, where, depth + 1, s);
      if (y !== x) {
        if (out === null) out = Object.assign(Object.getPrototypeOf(o) === null ? (Object.create(null) as Record<string, unknown>) : {}, o);
        out[k] = y;
      }
    }
  }
  return out ?? v;
}

/** The module URLs of wire forms in `v` whose reviver is not loaded here. */
function missingRevivers(v: unknown, table: Map<string, Reviver> | undefined, out: Set<string>, depth: number): void {
  if (typeof v !== "object" || v === null || depth > MAX_DEPTH) return;
  if (isSharedArg(v)) {
    if (table?.get(v.$tsaioShared) === undefined) out.add(v.$tsaioShared);
    return;
  }
  if (Array.isArray(v)) for (const x of v) missingRevivers(x, table, out, depth + 1);
  else if (isPlainContainer(v)) for (const x of Object.values(v)) missingRevivers(x, table, out, depth + 1);
}

/** Replaces the wire forms in `v` (in place: `v` is a fresh copy made by structured clone) by their objects. */
function reviveIn(v: unknown, table: Map<string, Reviver>, depth: number): unknown {
  if (typeof v !== "object" || v === null || depth > MAX_DEPTH) return v;
  if (isSharedArg(v)) return (table.get(v.$tsaioShared) as Reviver)(v.h);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x === "object" && x !== null) v[i] = reviveIn(x, table, depth + 1);
    }
  } else if (isPlainContainer(v)) {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      const x = o[k];
      if (typeof x === "object" && x !== null) o[k] = reviveIn(x, table, depth + 1);
    }
  }
  return v;
}

/**
 * @internal The receiving side of wire forms ({@link F_SHARED} arguments, {@link R_OK_SHARED}
 * results): `v` with each wire form, at any depth, replaced by its working object. Synchronous
 * when the reviving modules are loaded (the job's module usually imports them itself); otherwise
 * they are imported first.
 */
export function reviveShared<T>(v: T): T | Promise<T> {
  const table = revivers();
  const missing = new Set<string>();
  missingRevivers(v, table, missing, 0);
  if (missing.size > 0) return Promise.all([...missing].map((u) => import(u))).then(() => reviveIn(v, revivers() as Map<string, Reviver>, 0) as T);
  return reviveIn(v, table as Map<string, Reviver>, 0) as T;
}

// ------------------------------------------------------------------------------ errors

/** An error as it crosses the boundary: enough to rebuild name, message, stack, cause and props. */
export interface ErrorPayload {
  $tsaioError: 1;
  name: string;
  message: string;
  stack: string | undefined;
  /** Constructor name, to rebuild built-in and tsaio error classes. */
  ctor: string;
  hasCause: boolean;
  cause: unknown;
  errors: unknown[] | undefined;
  /** Other own enumerable properties (`code`, `errno`, `path`…), when they can be cloned. */
  props: Record<string, unknown> | undefined;
}

const SKIP_PROPS = new Set(["name", "message", "stack", "cause", "errors"]);

/** Makes `e` (anything thrown) safe to post: Errors become payloads, other values pass if cloneable. */
export function encodeError(e: unknown, depth = 0): unknown {
  if (e instanceof Error || (typeof e === "object" && e !== null && typeof (e as Error).message === "string" && typeof (e as Error).stack === "string")) {
    const err = e as Error & { cause?: unknown; errors?: unknown };
    let props: Record<string, unknown> | undefined;
    for (const k of Object.keys(err)) {
      if (SKIP_PROPS.has(k)) continue;
      const v = (err as unknown as Record<string, unknown>)[k];
      if (isPlainCloneable(v, 0)) (props ??= {})[k] = v;
    }
    const hasCause = "cause" in err && depth < 8;
    return {
      $tsaioError: 1,
      name: String(err.name),
      message: String(err.message),
      stack: typeof err.stack === "string" ? err.stack : undefined,
      ctor: typeof err.constructor === "function" ? err.constructor.name : "Error",
      hasCause,
      cause: hasCause ? encodeError(err.cause, depth + 1) : undefined,
      errors: Array.isArray(err.errors) && depth < 8 ? err.errors.map((x) => encodeError(x, depth + 1)) : undefined,
      props,
    } satisfies ErrorPayload;
  }
  if (isPlainCloneable(e, 0)) return e;
  try {
    return String(e);
  } catch {
    return "<unprintable thrown value>";
  }
}

/** Primitives, and arrays/plain objects of them (a cheap, conservative check; no structuredClone). */
function isPlainCloneable(v: unknown, depth: number): boolean {
  if (v === null || v === undefined) return true;
  const t = typeof v;
  if (t === "string" || t === "number" || t === "boolean" || t === "bigint") return true;
  if (t !== "object" || depth > 4) return false;
  if (Array.isArray(v)) return v.every((x) => isPlainCloneable(x, depth + 1));
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) return v instanceof Date || ArrayBuffer.isView(v);
  return Object.values(v as object).every((x) => isPlainCloneable(x, depth + 1));
}

const CTORS: Record<string, new (message?: string, options?: ErrorOptions) => Error> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  CancelledError,
  TimeoutError,
  InvalidStateError,
  BrokenExecutorError,
};

/** Rebuilds an error posted by {@link encodeError}: same class when built in (or a tsaio error), else `Error` with the same name. */
export function decodeError(p: unknown): unknown {
  if (typeof p !== "object" || p === null || (p as ErrorPayload).$tsaioError !== 1) return p;
  const d = p as ErrorPayload;
  let err: Error;
  if (d.errors !== undefined) {
    err = new AggregateError(d.errors.map(decodeError), d.message);
  } else {
    const Ctor = Object.hasOwn(CTORS, d.ctor) ? CTORS[d.ctor] : Object.hasOwn(CTORS, d.name) ? CTORS[d.name] : Error;
    err = new Ctor(d.message);
  }
  if (err.name !== d.name) Object.defineProperty(err, "name", { value: d.name, writable: true, configurable: true, enumerable: false });
  if (d.stack !== undefined) Object.defineProperty(err, "stack", { value: d.stack, writable: true, configurable: true, enumerable: false });
  if (d.hasCause) Object.defineProperty(err, "cause", { value: decodeError(d.cause), writable: true, configurable: true, enumerable: false });
  if (d.props !== undefined) Object.assign(err, d.props);
  return err;
}
