/**
 * `StreamReader`: asyncio's buffered reader (CPython 3.13's `Lib/asyncio/streams.py`), fed by a socket,
 * a pipe, or by hand with `feedData()` / `feedEof()`.
 *
 * ## What it guarantees (asyncio's rules, kept)
 * - A read takes bytes out of the buffer only when it returns: a `readline()`, `readuntil()` or
 *   `readexactly()` cancelled (or timed out) while it waits leaves every byte where it was, for the
 *   next read. `read()` to the end (no `n`) does too: it waits for EOF before taking anything.
 * - One waiting read at a time: a second read that would have to wait while another one waits is an
 *   `InvalidStateError` (asyncio's RuntimeError) — which task would get the data is undefined.
 * - `limit` bounds a line: `readuntil()` raises `LimitOverrunError` (data kept), `readline()` discards
 *   the line and raises it. It is also the flow-control mark: past `2 × limit` buffered bytes the
 *   transport is paused, and resumed once a read brings the buffer back to `limit` (or a read has to
 *   wait for data, so that `readexactly(n > limit)` cannot deadlock).
 * - Every read is a cancellation point when it waits, and applies the cancellation model's rule (c)
 *   before touching the buffer: a task with a pending cancel gets `CancelledError` and the buffered
 *   line stays there.
 *
 * ## The buffer
 * The unread bytes are `_data[_pos..]`. Reads advance `_pos`, so a line costs one view, not two.
 * `_data` is either *sealed* (`_store` null: memory nothing will ever write again — a chunk fed in
 * while the buffer was empty, kept as it is, or an exact-size buffer holding a small remainder and
 * the next chunk), from which reads return views; or the filled part of `_store`, memory the reader
 * owns and appends into, grown by doubling when a large amount accumulates (so a `readexactly()` of
 * 10 MB arriving in 64 KiB chunks copies each byte about twice, not 160 times), from which reads
 * return copies — except a read that empties the buffer, which hands out the memory and forgets it.
 * @module
 */
import { inspect } from "node:util";
import { runningLoop } from "../context.js";
import { InvalidStateError } from "../errors.js";
import { cancelOnAbort, PENDING, throwAtCall, WaiterFuture } from "../futures.js";
import { checkCount, describe, signalOf } from "../internal/validate.js";
import { type DescribeOptions, FULL, showError } from "../internal/describe.js";
import { abortedError } from "../waiters.js";
import { IncompleteReadError, LimitOverrunError } from "./errors.js";

/** asyncio's `_DEFAULT_LIMIT`: 64 KiB. */
export const DEFAULT_LIMIT = 2 ** 16;

const EMPTY: Buffer = Buffer.alloc(0);
const NL = 10;
const NL_SEPS: readonly Buffer[] = [Buffer.from("\n")];

/** Options of the reads: `{ signal }` cancels a read that waits. */
export interface ReadOptions {
  /** Aborting it cancels the read (it rejects with `CancelledError`; no data is lost). */
  signal?: AbortSignal;
}

/** Options of `new StreamReader()`. */
export interface StreamReaderOptions {
  /**
   * The longest line `readline()`/`readuntil()` accept (not counting the separator), and the
   * flow-control mark (the transport pauses past twice this many buffered bytes). An integer >= 1,
   * or Infinity. Default 64 KiB, as asyncio's.
   * @defaultValue 65536
   */
  limit?: number;
}

/** A separator for `readuntil()`: bytes, or a string (sent as UTF-8). */
export type Separator = string | Uint8Array;

/** What a reader pauses and resumes when its buffer fills: a socket, a pipe. @internal */
export interface ReadTransport {
  pause(): void;
  resume(): void;
}

/** Where `readuntil()`'s scan has got to: bytes before `offset` hold no separator. */
interface Scan {
  offset: number;
}
/** The fast paths' scan state: they are synchronous, so one object serves every call. */
const scratch: Scan = { offset: 0 };

/**
 * A buffered byte stream with asyncio's reads: `read(n)`, `readline()`, `readuntil(sep)`,
 * `readexactly(n)`, `atEof()`, and `for await (const line of reader)`. `openConnection()`,
 * `startServer()` and subprocess pipes make them; `feedData()`/`feedEof()` drive one by hand.
 * Reads return Node `Buffer`s (a view of the data received, or a copy).
 * @example
 * ```ts
 * import { StreamReader } from "tsaio";
 * const r = new StreamReader();
 * r.feedData("GET / HTTP/1.1\r\nHost: x\r\n\r\nbody");
 * r.feedEof();
 * console.log((await r.readuntil("\r\n\r\n")).length, (await r.read()).toString()); // 27 body
 * ```
 */
export class StreamReader implements AsyncIterable<Buffer> {
  /** @internal */ readonly _limit: number;
  /** @internal The buffered bytes; the unread ones start at `_pos`. */ _data: Buffer = EMPTY;
  /** @internal */ _pos = 0;
  /** @internal Memory the reader owns and appends into (`_data` is its filled part), or null: `_data` is sealed. */
  _store: Buffer | null = null;
  /** @internal */ _eof = false;
  /** @internal The future a waiting read awaits (asyncio's `_waiter`). */
  _waiter: WaiterFuture<void> | null = null;
  /** @internal */ _exception: unknown = null;
  /** @internal */ _transport: ReadTransport | null = null;
  /** @internal */ _paused = false;

  /** A reader with an empty buffer; `limit` (default 64 KiB) bounds a line. */
  constructor(options?: StreamReaderOptions) {
    let limit = DEFAULT_LIMIT;
    if (options !== undefined) {
      if (options === null || typeof options !== "object") throw new TypeError(`StreamReader: \`options\` must be an object, got ${describe(options)}`);
      if (options.limit !== undefined) limit = checkLimit(options.limit, "StreamReader");
    }
    this._limit = limit;
  }

  /** The line limit given to the constructor. */
  get limit(): number {
    return this._limit;
  }

  /** The error the stream failed with (`setException`), or null. */
  exception(): unknown {
    return this._exception;
  }

  /** Makes every read fail with `exc` from now on, the waiting one too (asyncio's `set_exception`). */
  setException(exc: unknown): void {
    this._exception = exc;
    const w = this._waiter;
    if (w !== null) {
      this._waiter = null;
      if (w._state === PENDING) w.setException(exc);
    }
  }

  /**
   * Appends bytes to the buffer and wakes a waiting read (asyncio's `feed_data`). A string is
   * encoded as UTF-8. The reader keeps a reference to `data`: do not modify it afterwards.
   * `InvalidStateError` after `feedEof()`.
   */
  feedData(data: Uint8Array | string): void {
    if (this._eof) throw new InvalidStateError("StreamReader.feedData() after feedEof()");
    let chunk: Buffer;
    if (typeof data === "string") chunk = Buffer.from(data);
    else if (Buffer.isBuffer(data)) chunk = data;
    else if (data instanceof Uint8Array) chunk = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    else throw new TypeError(`StreamReader.feedData: \`data\` must be a Uint8Array, a Buffer or a string, got ${describe(data)}`);
    if (chunk.length === 0) return;
    this._append(chunk);
    this._wakeup();
    if (this._transport !== null && !this._paused && this._data.length - this._pos > 2 * this._limit) {
      this._paused = true;
      this._transport.pause();
    }
  }

  /** Marks the end of the stream and wakes a waiting read (asyncio's `feed_eof`). */
  feedEof(): void {
    this._eof = true;
    this._wakeup();
  }

  /** Whether the buffer is empty and `feedEof()` was called: nothing more will ever be read. */
  atEof(): boolean {
    return this._eof && this._data.length === this._pos;
  }

  /**
   * Reads up to `n` bytes: as soon as at least one is buffered, whatever is there (at most `n`).
   * With `n` < 0 (the default, -1) reads to the end of the stream. Returns an empty Buffer at the
   * end of the stream, and for `n` = 0. Not bounded by `limit`.
   */
  read(n = -1, options?: ReadOptions): Promise<Buffer> {
    if (typeof n !== "number") throw new TypeError(`StreamReader.read: \`n\` must be an integer, got ${describe(n)}`);
    if (!Number.isInteger(n)) throw new RangeError(`StreamReader.read: \`n\` must be an integer, got ${n}`);
    const signal = options === undefined ? undefined : signalOf(options, "StreamReader.read");
    if (signal !== undefined && signal.aborted) return Promise.reject(abortedError(signal));
    throwAtCall();
    if (this._exception !== null) return Promise.reject(this._exception);
    if (n === 0) return Promise.resolve(EMPTY);
    if (n < 0) {
      if (this._eof) return Promise.resolve(this._take(this._size()));
      return this._readAll(signal);
    }
    if (this._size() > 0) return Promise.resolve(this._takeSome(n));
    if (this._eof) return Promise.resolve(EMPTY);
    return this._readSome(n, signal);
  }

  /**
   * Reads one line, up to and including `"\n"`. At the end of the stream returns the last partial
   * line, then empty Buffers. A line longer than `limit` is discarded (with the rest of the buffer
   * when its end has not arrived) and `LimitOverrunError` is thrown (asyncio's `ValueError`).
   */
  readline(options?: ReadOptions): Promise<Buffer> {
    const signal = options === undefined ? undefined : signalOf(options, "StreamReader.readline");
    if (signal !== undefined && signal.aborted) return Promise.reject(abortedError(signal));
    throwAtCall();
    if (this._exception !== null) return Promise.reject(this._exception);
    // The common case, inline: a whole line in the buffer.
    const pos = this._pos;
    const i = this._data.indexOf(NL, pos) - pos;
    if (i >= 0 && i <= this._limit) {
      const line = this._take(i + 1);
      if (this._paused) this._maybeResume();
      return Promise.resolve(line);
    }
    scratch.offset = 0;
    let line: Buffer | null;
    try {
      line = this._scan(NL_SEPS, scratch);
    } catch (e) {
      try {
        return Promise.resolve(this._lineError(e));
      } catch (e2) {
        return Promise.reject(e2 as Error);
      }
    }
    if (line !== null) return Promise.resolve(line);
    return this._readlineSlow({ offset: scratch.offset }, signal);
  }

  /**
   * Reads up to and including `separator` (default `"\n"`). A list of separators finds the
   * shortest data ending in any of them (3.13). At the end of the stream without the separator,
   * throws `IncompleteReadError` with the rest of the data (consumed). When `limit` is reached first
   * (or the separator is found beyond it), throws `LimitOverrunError` and leaves the data buffered.
   */
  readuntil(separator: Separator | readonly Separator[] = "\n", options?: ReadOptions): Promise<Buffer> {
    const seps = separatorsOf(separator);
    const signal = options === undefined ? undefined : signalOf(options, "StreamReader.readuntil");
    if (signal !== undefined && signal.aborted) return Promise.reject(abortedError(signal));
    throwAtCall();
    if (this._exception !== null) return Promise.reject(this._exception);
    scratch.offset = 0;
    let chunk: Buffer | null;
    try {
      chunk = this._scan(seps, scratch);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    if (chunk !== null) return Promise.resolve(chunk);
    return this._readuntilSlow(seps, { offset: scratch.offset }, signal);
  }

  /**
   * Reads exactly `n` bytes (an integer >= 0). At the end of the stream before that, throws
   * `IncompleteReadError` with the bytes read (consumed). Not bounded by `limit`.
   */
  readexactly(n: number, options?: ReadOptions): Promise<Buffer> {
    checkCount(n, "StreamReader.readexactly", "n", 0);
    const signal = options === undefined ? undefined : signalOf(options, "StreamReader.readexactly");
    if (signal !== undefined && signal.aborted) return Promise.reject(abortedError(signal));
    throwAtCall();
    if (this._exception !== null) return Promise.reject(this._exception);
    if (n === 0) return Promise.resolve(EMPTY);
    if (this._size() >= n) {
      const data = this._take(n);
      if (this._paused) this._maybeResume();
      return Promise.resolve(data);
    }
    if (this._eof) return Promise.reject(new IncompleteReadError(this._take(this._size()), n));
    return this._readexactlySlow(n, signal);
  }

  /** `for await (const line of reader)`: the lines (with their `"\n"`) until the end of the stream. */
  [Symbol.asyncIterator](): AsyncIterableIterator<Buffer> {
    const it: AsyncIterableIterator<Buffer> = {
      next: () => this.readline().then(lineResult),
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  // ------------------------------------------------------------------------------ internals

  /** @internal The read is over when it returns; here it waits for data (asyncio's `_wait_for_data`). */
  _waitForData(funcName: string, signal: AbortSignal | undefined): WaiterFuture<void> {
    const w = this._waiter;
    if (w !== null && w._state === PENDING) {
      throw new InvalidStateError(`StreamReader.${funcName}() called while another task is already waiting for incoming data`);
    }
    // Waiting while paused would wait forever (readexactly(n) with n > limit): resume.
    if (this._paused) {
      this._paused = false;
      (this._transport as ReadTransport).resume();
    }
    const fut = new WaiterFuture<void>(runningLoop(), this);
    this._waiter = fut;
    if (signal !== undefined) cancelOnAbort(fut, signal);
    return fut;
  }

  /** @internal */
  private _wakeup(): void {
    const w = this._waiter;
    if (w !== null) {
      this._waiter = null;
      if (w._state === PENDING) w._resolve(undefined);
    }
  }

  /** @internal asyncio's `_maybe_resume_transport`. */
  _maybeResume(): void {
    if (this._paused && this._size() <= this._limit) {
      this._paused = false;
      (this._transport as ReadTransport).resume();
    }
  }

  /** @internal Lets the transport pause and resume reading (asyncio's `set_transport`). */
  _setTransport(t: ReadTransport | null): void {
    if (t === null && this._paused) this._paused = false;
    this._transport = t;
  }

  /** @internal How many bytes are buffered. */
  _size(): number {
    return this._data.length - this._pos;
  }

  /** @internal The buffered bytes (a view; for inspection and tests). */
  _unread(): Buffer {
    return this._data.subarray(this._pos);
  }

  /** @internal */
  private _append(chunk: Buffer): void {
    const n = this._data.length - this._pos;
    if (n === 0) {
      this._data = chunk;
      this._pos = 0;
      this._store = null;
      return;
    }
    const m = chunk.length;
    const s = this._store;
    if (s !== null) {
      const end = this._data.length; // _data is the filled part of the store, from its start
      if (end + m <= s.length) {
        s.set(chunk, end);
        this._data = s.subarray(0, end + m);
        return;
      }
    }
    const need = n + m;
    const unread = this._data.subarray(this._pos);
    if (n <= m) {
      // A small remainder (the start of a line) and the next chunk: an exact-size buffer, sealed.
      const b = Buffer.allocUnsafe(need);
      b.set(unread, 0);
      b.set(chunk, n);
      this._data = b;
      this._store = null;
    } else {
      // A large accumulation (a long read): owned memory, grown by doubling.
      const ns = Buffer.allocUnsafe(need * 2);
      ns.set(unread, 0);
      ns.set(chunk, n);
      this._store = ns;
      this._data = ns.subarray(0, need);
    }
    this._pos = 0;
  }

  /** @internal Removes and returns the first `k` buffered bytes (k <= size). */
  _take(k: number): Buffer {
    const d = this._data;
    const pos = this._pos;
    if (pos + k >= d.length) {
      // Emptied: hand the memory out and forget it (nothing will write into it again).
      this._data = EMPTY;
      this._pos = 0;
      this._store = null;
      return pos === 0 ? d : d.subarray(pos);
    }
    this._pos = pos + k;
    if (this._store === null) return d.subarray(pos, pos + k);
    const out = Buffer.allocUnsafe(k);
    d.copy(out, 0, pos, pos + k);
    return out;
  }

  /** @internal */
  private _takeSome(n: number): Buffer {
    const data = this._take(Math.min(n, this._size()));
    if (this._paused) this._maybeResume();
    return data;
  }

  /**
   * @internal One pass of CPython's `readuntil` loop over the buffer: the data up to the end of the first
   * match (consumed), or null to wait for more data; throws `LimitOverrunError` (data kept) or, at
   * EOF, `IncompleteReadError` (data consumed). `seps` is sorted by length.
   */
  private _scan(seps: readonly Buffer[], st: Scan): Buffer | null {
    const buf = this._data;
    const pos = this._pos;
    const buflen = buf.length - pos;
    const minlen = seps[0]!.length;
    if (buflen - st.offset >= minlen) {
      let matchStart = -1;
      let matchEnd = -1;
      for (let k = 0; k < seps.length; k++) {
        const sep = seps[k]!;
        const at = sep.length === 1 ? buf.indexOf(sep[0]!, pos + st.offset) : buf.indexOf(sep, pos + st.offset);
        if (at !== -1) {
          const i = at - pos;
          const end = i + sep.length;
          if (matchEnd === -1 || end < matchEnd) {
            matchEnd = end;
            matchStart = i;
          }
        }
      }
      if (matchEnd !== -1) {
        if (matchStart > this._limit) throw new LimitOverrunError("Separator is found, but chunk is longer than limit", matchStart);
        const chunk = this._take(matchEnd);
        if (this._paused) this._maybeResume();
        return chunk;
      }
      // The end of the buffer may hold the start of the longest separator: rescan from there.
      st.offset = Math.max(0, buflen + 1 - seps[seps.length - 1]!.length);
      if (st.offset > this._limit) throw new LimitOverrunError("Separator is not found, and chunk exceed the limit", st.offset);
    }
    // A complete match may come with the EOF's last chunk: so EOF is checked after the search.
    if (this._eof) throw new IncompleteReadError(this._take(buflen), null);
    return null;
  }

  /** @internal readline's handling of readuntil's errors (asyncio's `readline`). */
  private _lineError(e: unknown): Buffer {
    if (e instanceof IncompleteReadError) return e.partial;
    if (e instanceof LimitOverrunError) {
      if (this._size() > e.consumed && this._data[this._pos + e.consumed] === NL) this._take(e.consumed + 1);
      else this._take(this._size());
      this._maybeResume();
    }
    throw e;
  }

  /** @internal */
  private async _readlineSlow(st: Scan, signal: AbortSignal | undefined): Promise<Buffer> {
    for (;;) {
      await this._waitForData("readline", signal);
      let line: Buffer | null;
      try {
        line = this._scan(NL_SEPS, st);
      } catch (e) {
        return this._lineError(e);
      }
      if (line !== null) return line;
    }
  }

  /** @internal */
  private async _readuntilSlow(seps: readonly Buffer[], st: Scan, signal: AbortSignal | undefined): Promise<Buffer> {
    for (;;) {
      await this._waitForData("readuntil", signal);
      const chunk = this._scan(seps, st);
      if (chunk !== null) return chunk;
    }
  }

  /** @internal */
  private async _readSome(n: number, signal: AbortSignal | undefined): Promise<Buffer> {
    await this._waitForData("read", signal);
    return this._takeSome(n);
  }

  /** @internal */
  private async _readAll(signal: AbortSignal | undefined): Promise<Buffer> {
    // Nothing is taken before the end: a cancelled read(-1) loses no data.
    while (!this._eof) await this._waitForData("read", signal);
    return this._take(this._size());
  }

  /** @internal */
  private async _readexactlySlow(n: number, signal: AbortSignal | undefined): Promise<Buffer> {
    while (this._size() < n) {
      if (this._eof) throw new IncompleteReadError(this._take(this._size()), n);
      await this._waitForData("readexactly", signal);
    }
    const data = this._take(n);
    this._maybeResume();
    return data;
  }

  /** @internal Its describer (see internal/describe.ts): bytes buffered (a count, never the bytes), flags, the error. */
  _describe(o: DescribeOptions): string {
    let s = "<StreamReader";
    if (this._size() > 0) s += ` ${this._size()} bytes`;
    if (this._eof) s += " eof";
    if (this._limit !== DEFAULT_LIMIT) s += ` limit=${this._limit}`;
    // The waiter's own inspect shows its owner (this reader): print only that a read waits.
    if (this._waiter !== null && this._waiter._state === PENDING) s += " waiting";
    if (this._exception !== null) s += ` exception=${showError(this._exception, o)}`;
    if (this._transport !== null) s += " transport";
    if (this._paused) s += " paused";
    return s + ">";
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}

const DONE: IteratorReturnResult<undefined> = { value: undefined, done: true };

function lineResult(line: Buffer): IteratorResult<Buffer> {
  return line.length === 0 ? (DONE as IteratorResult<Buffer>) : { value: line, done: false };
}

/** @internal A `limit` option: an integer >= 1 or Infinity. */
export function checkLimit(limit: unknown, fnName: string): number {
  checkCount(limit, fnName, "limit", 1, true);
  return limit;
}

/** `readuntil()`'s separator(s), as Buffers sorted by length (the shortest match wins). */
function separatorsOf(separator: unknown): readonly Buffer[] {
  if (separator === "\n") return NL_SEPS;
  if (Array.isArray(separator)) {
    if (separator.length === 0) throw new RangeError("StreamReader.readuntil: `separator` must contain at least one separator, got an empty array");
    const seps = separator.map(toSeparator);
    return seps.sort((a, b) => a.length - b.length);
  }
  return [toSeparator(separator)];
}

function toSeparator(s: unknown): Buffer {
  let b: Buffer;
  if (typeof s === "string") b = Buffer.from(s);
  else if (s instanceof Uint8Array) b = Buffer.from(s.buffer, s.byteOffset, s.byteLength);
  else throw new TypeError(`StreamReader.readuntil: \`separator\` must be a string, a Uint8Array or an array of them, got ${describe(s)}`);
  if (b.length === 0) throw new RangeError("StreamReader.readuntil: `separator` must be at least one byte long");
  return b;
}
