/**
 * Shared memory for numbers: `Value` (one number, Python's `multiprocessing.Value` for threads),
 * `SharedArray` (a typed array plus a lock, Python's `Array`) and `RawArray` (a bare typed array on
 * a SharedArrayBuffer, Python's `RawArray`). Integer values are read and written with `Atomics`
 * (each read or write is atomic; a read-modify-write like `v.value += 1` is not: hold the lock).
 * @module
 */
import { inspect } from "node:util";
import { describe } from "../internal/validate.js";
import { Lock, RLock } from "./lock.js";
import { checkHandle, type Handle, registerReviver, WIRE, type WireForm } from "./shared.js";

const URL_ = import.meta.url;

const TYPES = {
  i8: Int8Array,
  u8: Uint8Array,
  i16: Int16Array,
  u16: Uint16Array,
  i32: Int32Array,
  u32: Uint32Array,
  f32: Float32Array,
  f64: Float64Array,
  i64: BigInt64Array,
  u64: BigUint64Array,
} as const;

/** The element types: `"i32"`, `"f64"`, `"u8"`… (`i64`/`u64` hold bigints). */
export type TypeCode = keyof typeof TYPES;
/** The typed array of a {@link TypeCode}. */
export type TypedArrayOf<T extends TypeCode> = InstanceType<(typeof TYPES)[T]>;
/** The JS type of one element: bigint for 64-bit integers, number otherwise. */
export type ElementOf<T extends TypeCode> = T extends "i64" | "u64" ? bigint : number;

function checkType(type: unknown, what: string): asserts type is TypeCode {
  if (typeof type !== "string" || !Object.hasOwn(TYPES, type)) {
    throw new TypeError(`${what}: \`type\` must be one of ${Object.keys(TYPES).map((k) => `"${k}"`).join(", ")}, got ${describe(type)}`);
  }
}

const ATOMIC = new Set<TypeCode>(["i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64"]);

type AnyLock = Lock | RLock;

/** The `lock` option: `true` (a new {@link Lock}, the default), `false` (none), or a lock to share. */
export type LockOption = boolean | Lock | RLock;

function lockOf(lock: unknown, what: string): AnyLock | null {
  if (lock === undefined || lock === true) return new Lock();
  if (lock === false) return null;
  if (lock instanceof Lock || lock instanceof RLock) return lock;
  throw new TypeError(`${what}: \`lock\` must be a boolean, a Lock or an RLock, got ${describe(lock)}`);
}

/** `getLock()` of a Value or SharedArray (`cls`): its lock, or a TypeError if made with `lock: false`. */
function lockGiven(lock: AnyLock | null, cls: string): AnyLock {
  if (lock === null) throw new TypeError(`${cls}.getLock(): this ${cls} was made with \`lock: false\``);
  return lock;
}

function reviveLock(h: Handle | null): AnyLock | null {
  if (h === null) return null;
  return h.kind === "RLock" ? RLock.from(h) : Lock.from(h);
}

/** The handle of a {@link Value} or {@link SharedArray}. */
export interface ValueHandle extends Handle {
  readonly type: TypeCode;
  readonly length: number;
  readonly lock: Handle | null;
}

function makeArray<T extends TypeCode>(type: T, sab: SharedArrayBuffer, offset: number, length: number): TypedArrayOf<T> {
  const Ctor = TYPES[type] as unknown as new (b: SharedArrayBuffer, o: number, n: number) => TypedArrayOf<T>;
  return new Ctor(sab, offset, length);
}

/**
 * One number in shared memory, Python's `multiprocessing.Value` for threads: read and write
 * `.value` from any thread; hold `getLock()` around read-modify-write sequences.
 * @example
 * ```ts
 * import { Value } from "tsaio/threading";
 * const counter = new Value("i32", 0);
 * await counter.getLock().run(() => { counter.value += 1; });
 * console.log(counter.value); // 1
 * ```
 */
export class Value<T extends TypeCode = TypeCode> {
  /** @internal */ _a: TypedArrayOf<T>;
  /** @internal */ readonly _type: T;
  /** @internal */ _lock: AnyLock | null;
  /** @internal */ _atomic: boolean;

  constructor(type: T, initial?: ElementOf<T>, options?: { lock?: LockOption }) {
    checkType(type, "Value");
    this._type = type;
    this._atomic = ATOMIC.has(type);
    this._lock = lockOf(options?.lock, "Value");
    this._a = makeArray(type, new SharedArrayBuffer(8), 0, 1);
    if (initial !== undefined) this.value = initial;
  }

  /**
   * Re-attaches to a value made in another thread, from its {@link Value.handle}.
   * @example
   * ```ts
   * import { Value } from "tsaio/threading";
   * const v = new Value("f64", 1.5);
   * console.log(Value.from(v.handle).value); // 1.5
   * ```
   */
  static from<T extends TypeCode = TypeCode>(handle: ValueHandle): Value<T> {
    checkHandle(handle, "Value", "Value.from");
    checkType(handle.type, "Value.from");
    const v = Object.create(Value.prototype) as { _a: unknown; _type: TypeCode; _lock: AnyLock | null; _atomic: boolean };
    v._type = handle.type;
    v._atomic = ATOMIC.has(handle.type);
    v._a = makeArray(handle.type, handle.sab, handle.offset, 1);
    v._lock = reviveLock(handle.lock);
    return v as unknown as Value<T>;
  }

  /** A plain, structured-cloneable description, for {@link Value.from} in another thread. */
  get handle(): ValueHandle {
    return { kind: "Value", sab: this._a.buffer as unknown as SharedArrayBuffer, offset: this._a.byteOffset, type: this._type, length: 1, lock: this._lock?.handle ?? null };
  }

  /** The element type. */
  get type(): T {
    return this._type;
  }

  /** The number (each read and write is atomic for integer types). */
  get value(): ElementOf<T> {
    const a = this._a as unknown as Int32Array;
    return (this._atomic ? Atomics.load(a, 0) : a[0]) as ElementOf<T>;
  }

  set value(v: ElementOf<T>) {
    const a = this._a as unknown as Int32Array;
    if (this._atomic) Atomics.store(a, 0, v as number);
    else a[0] = v as number;
  }

  /** Its lock (a {@link Lock} unless given another); throws if made with `lock: false`. */
  getLock(): AnyLock {
    return lockGiven(this._lock, "Value");
  }

  /** @internal */
  [WIRE](): WireForm {
    return { $tsaioShared: URL_, h: this.handle };
  }

  /** @internal */
  [inspect.custom](): string {
    return `<threading.Value ${this._type} value=${String(this.value)}${this._lock !== null && this._lock.locked() ? " locked" : ""}>`;
  }
}

function sizeOrItems<T extends TypeCode>(type: T, init: number | Iterable<ElementOf<T>>, what: string): [number, ElementOf<T>[] | null] {
  if (typeof init === "number") {
    if (!Number.isInteger(init) || init < 0) throw new RangeError(`${what}: \`sizeOrItems\` must be an integer >= 0 or an iterable of numbers, got ${init}`);
    return [init, null];
  }
  if (init === null || typeof init !== "object" || typeof (init as Iterable<unknown>)[Symbol.iterator] !== "function") {
    throw new TypeError(`${what}: \`sizeOrItems\` must be a length or an iterable of ${type === "i64" || type === "u64" ? "bigints" : "numbers"}, got ${describe(init)}`);
  }
  const items = [...init];
  return [items.length, items];
}

/**
 * A typed array on a `SharedArrayBuffer`, with no lock (Python's `multiprocessing.RawArray`):
 * threads that receive it (as a job argument, or through `workerData`) see the same memory.
 * @example
 * ```ts
 * import { RawArray } from "tsaio/threading";
 * const a = RawArray("f64", [1, 2, 3]);
 * console.log(a instanceof Float64Array, a.buffer instanceof SharedArrayBuffer, a[2]); // true true 3
 * ```
 */
export function RawArray<T extends TypeCode>(type: T, sizeOrItems: number | Iterable<ElementOf<T>>): TypedArrayOf<T> {
  checkType(type, "RawArray");
  const [n, items] = sizeOrItemsOf(type, sizeOrItems, "RawArray");
  const a = makeArray(type, new SharedArrayBuffer(n * TYPES[type].BYTES_PER_ELEMENT), 0, n);
  if (items !== null) (a as unknown as { set(x: ArrayLike<ElementOf<T>>): void }).set(items);
  return a;
}
const sizeOrItemsOf = sizeOrItems;

/**
 * A shared typed array plus a lock, Python's `multiprocessing.Array` for threads (named
 * `SharedArray`, since `Array` is JavaScript's): `array` is the shared view, `getLock()` the lock.
 * @example
 * ```ts
 * import { SharedArray } from "tsaio/threading";
 * const hist = new SharedArray("i32", 4);
 * await hist.getLock().run(() => { hist.array[1] += 2; });
 * console.log([...hist.array]); // [ 0, 2, 0, 0 ]
 * ```
 */
export class SharedArray<T extends TypeCode = TypeCode> {
  /** The shared view. */
  readonly array: TypedArrayOf<T>;
  /** @internal */ readonly _type: T;
  /** @internal */ readonly _lock: AnyLock | null;

  constructor(type: T, sizeOrItems: number | Iterable<ElementOf<T>>, options?: { lock?: LockOption }) {
    checkType(type, "SharedArray");
    this._type = type;
    this._lock = lockOf(options?.lock, "SharedArray");
    this.array = RawArray(type, sizeOrItems);
  }

  /**
   * Re-attaches to an array made in another thread, from its {@link SharedArray.handle}.
   * @example
   * ```ts
   * import { SharedArray } from "tsaio/threading";
   * const a = new SharedArray("u8", [7]);
   * console.log(SharedArray.from(a.handle).array[0]); // 7
   * ```
   */
  static from<T extends TypeCode = TypeCode>(handle: ValueHandle): SharedArray<T> {
    checkHandle(handle, "SharedArray", "SharedArray.from");
    checkType(handle.type, "SharedArray.from");
    const a = Object.create(SharedArray.prototype) as { array: unknown; _type: TypeCode; _lock: AnyLock | null };
    a._type = handle.type;
    a.array = makeArray(handle.type, handle.sab, handle.offset, handle.length);
    a._lock = reviveLock(handle.lock);
    return a as unknown as SharedArray<T>;
  }

  /** A plain, structured-cloneable description, for {@link SharedArray.from} in another thread. */
  get handle(): ValueHandle {
    const a = this.array;
    return { kind: "SharedArray", sab: a.buffer as unknown as SharedArrayBuffer, offset: a.byteOffset, type: this._type, length: a.length, lock: this._lock?.handle ?? null };
  }

  /** The number of elements. */
  get length(): number {
    return this.array.length;
  }

  /** Its lock; throws if made with `lock: false`. */
  getLock(): AnyLock {
    return lockGiven(this._lock, "SharedArray");
  }

  /** @internal */
  [WIRE](): WireForm {
    return { $tsaioShared: URL_, h: this.handle };
  }

  /** @internal */
  [inspect.custom](): string {
    return `<threading.SharedArray ${this._type}[${this.length}]${this._lock !== null && this._lock.locked() ? " locked" : ""}>`;
  }
}

registerReviver(URL_, (h) => (h.kind === "Value" ? Value.from(h as ValueHandle) : SharedArray.from(h as ValueHandle)));
