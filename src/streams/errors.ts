/**
 * The errors of asyncio's streams: `IncompleteReadError` and `LimitOverrunError`.
 * @module
 */
import { inspect } from "node:util";

/**
 * The stream ended before a read could complete (asyncio's `IncompleteReadError`, an `EOFError`):
 * `readexactly(n)` got fewer than `n` bytes, or `readuntil()` never found its separator. `partial`
 * holds the bytes read before the end (they are consumed); `expected` is `n`, or null for
 * `readuntil()`.
 * @example
 * ```ts
 * import { StreamReader, IncompleteReadError } from "tsaio";
 * const r = new StreamReader();
 * r.feedData("abc");
 * r.feedEof();
 * try {
 *   await r.readexactly(5);
 * } catch (e) {
 *   if (e instanceof IncompleteReadError) console.log(e.partial.toString(), e.expected); // abc 5
 * }
 * ```
 */
export class IncompleteReadError extends Error {
  /** The bytes read before the end of the stream. */
  readonly partial: Buffer;
  /** How many bytes were expected (`readexactly`), or null (`readuntil`). */
  readonly expected: number | null;

  constructor(partial: Buffer, expected: number | null) {
    super(`${partial.length} bytes read on a total of ${expected === null ? "undefined" : expected} expected bytes`);
    this.name = "IncompleteReadError";
    this.partial = partial;
    this.expected = expected;
  }

  /** @internal */
  [inspect.custom](): string {
    return `${this.stack ?? this.message}\n  partial: ${inspect(this.partial)}, expected: ${this.expected}`;
  }
}

/**
 * `readuntil()` (or `readline()`) hit the reader's `limit` before finding its separator, or found
 * it too far (asyncio's `LimitOverrunError`). `consumed` is how many bytes are to be consumed
 * (asyncio's meaning): after `readuntil()` the data stays in the buffer, so it can be read another
 * way; `readline()` discards the line (or the whole buffer when no separator was found) before
 * throwing it — asyncio raises `ValueError` there.
 * @example
 * ```ts
 * import { StreamReader, LimitOverrunError } from "tsaio";
 * const r = new StreamReader({ limit: 4 });
 * r.feedData("much too long\n");
 * try {
 *   await r.readuntil("\n");
 * } catch (e) {
 *   if (e instanceof LimitOverrunError) console.log(e.consumed, (await r.read(4)).toString()); // 13 much
 * }
 * ```
 */
export class LimitOverrunError extends Error {
  /** The number of bytes to be consumed (asyncio's `consumed`). */
  readonly consumed: number;

  constructor(message: string, consumed: number) {
    super(message);
    this.name = "LimitOverrunError";
    this.consumed = consumed;
  }
}

/**
 * The error a write or `drain()` raises once the connection is gone without an error of its own
 * (asyncio's `ConnectionResetError('Connection lost')`): `code` is `ECONNRESET`, as Node's.
 * @internal
 */
export function connectionLost(): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error("Connection lost");
  e.name = "ConnectionResetError";
  e.code = "ECONNRESET";
  return e;
}
