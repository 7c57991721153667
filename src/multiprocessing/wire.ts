/**
 * How tsaio/multiprocessing objects travel to executor jobs: the object tag the executors read on an
 * argument (a method returning a wire form), and the per-thread table of revivers keyed by module URL
 * that a worker uses to turn a wire form back into a working object (see executors/protocol.ts).
 * A wire form marked `process: true` carries only plain data (an address and a key), so process
 * pools accept it too.
 * Internal: not part of the package's public API.
 * @module
 */

/** @internal The symbol executors read on an object argument (shared with transfer markers). */
export const WIRE: unique symbol = Symbol.for("tsaio.executors.transfer") as never;

/** @internal Called by the executors once the job an object was passed to has ended (executors/protocol.ts). */
export const JOB_DONE: unique symbol = Symbol.for("tsaio.executors.jobDone") as never;

/** @internal A wire form: the module that revives it, its handle, and whether a process can use it. */
export interface ProcessWire<H> {
  $tsaioShared: string;
  h: H;
  process: true;
}

type Reviver = (h: never) => object;

/** @internal This thread's revivers by module URL (shared by every tsaio copy, and with tsaio/threading's). */
export function revivers(): Map<string, Reviver> {
  const g = globalThis as unknown as Record<symbol, Map<string, Reviver> | undefined>;
  return (g[Symbol.for("tsaio.threading.revivers")] ??= new Map());
}

/** @internal Registers the reviver of module `url` in this thread's table. */
export function registerReviver<H>(url: string, fn: (h: H) => object): void {
  revivers().set(url, fn as Reviver);
}
