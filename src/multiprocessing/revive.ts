/**
 * Objects that cross to another process as working objects, at any depth of an argument or a value.
 *
 * The contract: an object that can live in several processes (a `Connection`, a `Queue`, a
 * `Manager` proxy) has a method under `Symbol.for("tsaio.executors.transfer")` returning its wire
 * form `{ $tsaioShared: <module URL>, h: <plain cloneable handle>, process: true }`. The receiving
 * process revives it with the reviver that module registered in the global table
 * `globalThis[Symbol.for("tsaio.threading.revivers")]` (module URL → `(h) => object`) when it
 * loaded, importing the module first if it has not. tsaio/threading's primitives answer the same
 * symbol without `process: true`: they live in shared memory, which processes do not share, so they
 * are refused with a message saying what to use instead.
 *
 * Wire forms are found inside arrays, plain objects, Maps and Sets (a list of queues, an options
 * object holding a proxy, a dict value holding a list proxy); anything else is cloned as it is.
 * Internal: not part of the package's public API.
 * @module
 */
import { revivers, WIRE, type ProcessWire } from "./wire.js";

type ProcessForm = ProcessWire<unknown>;

function isForm(v: unknown): v is ProcessForm {
  return typeof v === "object" && v !== null && typeof (v as ProcessForm).$tsaioShared === "string" && (v as ProcessForm).process === true;
}

function isPlain(v: object): boolean {
  const p = Object.getPrototypeOf(v) as unknown;
  return p === Object.prototype || p === null;
}

const MAX_DEPTH = 32;

function objectName(v: object): string {
  const c = (v as { constructor?: { name?: unknown } }).constructor;
  return typeof c?.name === "string" && c.name !== "" ? `a ${c.name}` : "an object";
}

/**
 * `value` ready to be cloned to another process: every wire-capable object inside replaced by its
 * wire form (copies are made only along the paths that change; `value` is returned as it is when
 * nothing does). A TypeError naming `what` for an object that cannot cross processes.
 */
export function toProcess(value: unknown, what: string, depth = 0): unknown {
  if (typeof value !== "object" || value === null || depth > MAX_DEPTH) return value;
  const tag = (value as { [WIRE]?: unknown })[WIRE];
  if (typeof tag === "function") {
    const form = (tag as () => unknown).call(value) as { $tsaioShared?: unknown; process?: unknown } | null;
    if (form === null || typeof form !== "object" || typeof form.$tsaioShared !== "string") throw new TypeError(`${what}: ${objectName(value)} gave no wire form`);
    if (form.process !== true) {
      throw new TypeError(
        `${what}: ${objectName(value)} of tsaio/threading lives in shared memory and works across threads only, not processes; use tsaio/multiprocessing instead (a Manager's Lock, Value or dict, a Queue, a Pipe)`,
      );
    }
    return form;
  }
  if (tag === true) return toProcess((value as { value?: unknown }).value, what, depth + 1); // a transfer() marker: a process gets a copy anyway
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const w = toProcess(v, what, depth + 1);
      if (w !== v) (out ??= value.slice())[i] = w;
    }
    return out ?? value;
  }
  if (value instanceof Map) {
    let changed = false;
    const entries: [unknown, unknown][] = [];
    for (const [k, v] of value as Map<unknown, unknown>) {
      const w = toProcess(v, what, depth + 1);
      if (w !== v) changed = true;
      entries.push([k, w]);
    }
    return changed ? new Map(entries) : value;
  }
  if (value instanceof Set) {
    let changed = false;
    const items: unknown[] = [];
    for (const v of value as Set<unknown>) {
      const w = toProcess(v, what, depth + 1);
      if (w !== v) changed = true;
      items.push(w);
    }
    return changed ? new Set(items) : value;
  }
  if (!isPlain(value)) return value;
  let out: Record<string, unknown> | null = null;
  for (const k of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[k];
    const w = toProcess(v, what, depth + 1);
    if (w !== v) (out ??= { ...(value as Record<string, unknown>) })[k] = w;
  }
  return out ?? value;
}

/** Collects the module URLs of wire forms in `value` whose reviver is not registered yet; whether any form was seen. */
function scan(value: unknown, need: Set<string>, depth: number): boolean {
  if (typeof value !== "object" || value === null || depth > MAX_DEPTH) return false;
  if (isForm(value)) {
    if (!revivers().has(value.$tsaioShared)) need.add(value.$tsaioShared);
    return true;
  }
  let any = false;
  if (Array.isArray(value)) for (const v of value) any = scan(v, need, depth + 1) || any;
  else if (value instanceof Map) for (const v of (value as Map<unknown, unknown>).values()) any = scan(v, need, depth + 1) || any;
  else if (value instanceof Set) for (const v of value as Set<unknown>) any = scan(v, need, depth + 1) || any;
  else if (isPlain(value)) for (const v of Object.values(value)) any = scan(v, need, depth + 1) || any;
  return any;
}

/** `value` with every wire form replaced by its live object, in place (`value` is a fresh clone). */
function reviveIn(value: unknown, depth: number): unknown {
  if (typeof value !== "object" || value === null || depth > MAX_DEPTH) return value;
  if (isForm(value)) {
    const fn = revivers().get(value.$tsaioShared);
    if (fn === undefined) throw new TypeError(`module ${value.$tsaioShared} registered no reviver for the object sent to this process`);
    return fn(value.h as never);
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = reviveIn(value[i], depth + 1);
  } else if (value instanceof Map) {
    for (const [k, v] of value as Map<unknown, unknown>) (value as Map<unknown, unknown>).set(k, reviveIn(v, depth + 1));
  } else if (value instanceof Set) {
    const items = [...(value as Set<unknown>)];
    (value as Set<unknown>).clear();
    for (const v of items) (value as Set<unknown>).add(reviveIn(v, depth + 1));
  } else if (isPlain(value)) {
    for (const k of Object.keys(value)) (value as Record<string, unknown>)[k] = reviveIn((value as Record<string, unknown>)[k], depth + 1);
  }
  return value;
}

/**
 * `value` (just received from another process) with its wire forms revived: the value itself when
 * it holds none (the common case, no promise), else a promise, after importing the modules named by
 * forms whose reviver is not registered yet.
 */
export function fromProcess(value: unknown): unknown {
  const need = new Set<string>();
  if (!scan(value, need, 0)) return value;
  if (need.size === 0) return reviveIn(value, 0);
  return Promise.all([...need].map((u) => import(u))).then(() => reviveIn(value, 0));
}
