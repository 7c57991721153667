/**
 * The Queue's item codec: a compact binary form for plain data — null, undefined, booleans,
 * numbers, strings, dense arrays and plain objects of them — written by hand (about 15× faster than
 * `v8.serialize` for a small object), and `v8.serialize` for everything else (Date, Map, bigint,
 * typed arrays, cycles…), so items keep structured-clone semantics either way: same values, same own
 * enumerable string keys in the same order, lone surrogates kept (strings travel as UTF-16 code
 * units, one byte each when all are below 256), -0 kept. The first byte says which form.
 *
 * One difference with structured clone: an object holding a value the fast form does not take
 * (a Date, a Map…) is read twice — by the fast form until it meets that value, then by
 * `v8.serialize` — so its getters, if it has any, run twice.
 *
 * Speed: the encoder writes into one reused scratch buffer of this thread ({@link encodeScratch}),
 * so a put allocates nothing but what the caller made; the decoder reads from a scratch the Queue
 * copied the record into. Strings are built from chunks of char codes (short) or by Buffer's
 * native latin1/ucs2 slicing (long); object keys come from a small cache of the keys seen last,
 * so that objects of one shape share their key strings and property stores hit V8's caches.
 * Internal: not part of the package's public API.
 * @module
 */
import { deserialize, serialize } from "node:v8";

const PLAIN = 0;
const V8 = 1;

const T_NULL = 1;
const T_UNDEF = 2;
const T_TRUE = 3;
const T_FALSE = 4;
const T_F64 = 5;
const T_I32 = 6;
const T_STR8 = 7;
const T_STR16 = 8;
const T_ARR = 9;
const T_OBJ = 10;
const T_U8 = 11;

const MAX_DEPTH = 32;
/** Strings longer than this are sliced natively (a call into C++ costs more than a short JS loop). */
const LONG = 24;

// ------------------------------------------------------------------------------ encoder

let buf = Buffer.allocUnsafeSlow(4096);
let view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
let pos = 0;

function grow(n: number): void {
  let size = buf.length * 2;
  while (size < pos + n) size *= 2;
  const next = Buffer.allocUnsafeSlow(size);
  next.set(buf.subarray(0, pos));
  buf = next;
  view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Thrown inside the encoder: this value needs the v8 form. */
const NOT_PLAIN = { notPlain: true };

function writeStr(s: string): void {
  const n = s.length;
  if (pos + 5 + 2 * n > buf.length) grow(5 + 2 * n);
  const b = buf;
  const start = pos;
  b[start] = T_STR8;
  b[start + 1] = n;
  b[start + 2] = n >>> 8;
  b[start + 3] = n >>> 16;
  b[start + 4] = n >>> 24;
  let p = start + 5;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) {
      // Not Latin-1: the whole string as UTF-16 code units (lone surrogates kept).
      b[start] = T_STR16;
      pos = start + 5 + b.write(s, start + 5, "utf16le");
      return;
    }
    b[p++] = c;
  }
  pos = p;
}

function write(v: unknown, depth: number): void {
  switch (typeof v) {
    case "number":
      if (pos + 9 > buf.length) grow(9);
      if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
        if (v >= 0 && v < 256) {
          buf[pos] = T_U8;
          buf[pos + 1] = v;
          pos += 2;
        } else {
          buf[pos] = T_I32;
          view.setInt32(pos + 1, v, true);
          pos += 5;
        }
      } else {
        buf[pos] = T_F64;
        view.setFloat64(pos + 1, v, true);
        pos += 9;
      }
      return;
    case "string":
      writeStr(v);
      return;
    case "boolean":
      if (pos + 1 > buf.length) grow(1);
      buf[pos++] = v ? T_TRUE : T_FALSE;
      return;
    case "undefined":
      if (pos + 1 > buf.length) grow(1);
      buf[pos++] = T_UNDEF;
      return;
    case "object": {
      if (pos + 5 > buf.length) grow(5);
      if (v === null) {
        buf[pos++] = T_NULL;
        return;
      }
      if (depth >= MAX_DEPTH) throw NOT_PLAIN; // deep, or a cycle: the v8 form handles both
      if (Array.isArray(v)) {
        const n = v.length;
        if (Object.keys(v).length !== n) throw NOT_PLAIN; // holes or extra properties
        buf[pos] = T_ARR;
        view.setUint32(pos + 1, n, true);
        pos += 5;
        for (let i = 0; i < n; i++) write(v[i], depth + 1);
        return;
      }
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) throw NOT_PLAIN;
      const keys = Object.keys(v);
      const n = keys.length;
      buf[pos] = T_OBJ;
      view.setUint32(pos + 1, n, true);
      pos += 5;
      for (let i = 0; i < n; i++) {
        const k = keys[i];
        writeStr(k);
        write((v as Record<string, unknown>)[k], depth + 1);
      }
      return;
    }
    default:
      throw NOT_PLAIN; // bigint, symbol, function: v8 clones bigints and refuses the others
  }
}

/**
 * Encodes `item` into this thread's scratch buffer and returns its length in bytes; the bytes are
 * `scratch()[0, length)` until the next call. Throws DataCloneError like postMessage for what cannot
 * be cloned.
 */
export function encodeScratch(item: unknown): number {
  if (encoding) return encodeNested(item);
  encoding = true;
  try {
    const n = encodeInto(item);
    last = buf;
    return n;
  } finally {
    encoding = false;
  }
}

/** Whether an encode is running: a getter of the item being encoded may put another item. */
let encoding = false;
/** Where the last {@link encodeScratch} left its bytes. */
let last: Buffer = buf;

function encodeInto(item: unknown): number {
  pos = 1;
  buf[0] = PLAIN;
  try {
    write(item, 0);
    return pos;
  } catch (e) {
    if (e !== NOT_PLAIN) throw e;
  }
  const v8 = serialize(item);
  pos = 0;
  if (v8.length + 1 > buf.length) grow(v8.length + 1);
  buf[0] = V8;
  buf.set(v8, 1);
  return v8.length + 1;
}

/** An encode inside an encode (from a getter): into a buffer of its own, the outer one's state kept. */
function encodeNested(item: unknown): number {
  const [outerBuf, outerView, outerPos] = [buf, view, pos];
  buf = Buffer.allocUnsafeSlow(256);
  view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  try {
    const n = encodeInto(item);
    last = buf;
    return n;
  } finally {
    [buf, view, pos] = [outerBuf, outerView, outerPos];
  }
}

/** The buffer the last {@link encodeScratch} wrote into: its bytes are `[0, length)` until the next call. */
export function scratch(): Buffer {
  return last;
}

/** The bytes of `item` (a fresh copy), in the plain form when it applies, else v8's. Throws DataCloneError like postMessage. */
export function encode(item: unknown): Uint8Array {
  const n = encodeScratch(item);
  return new Uint8Array(last.subarray(0, n)); // a copy (Buffer's slice would be a view)
}

// ------------------------------------------------------------------------------ decoder

let rbuf: Buffer = Buffer.allocUnsafeSlow(4096);
let rview = new DataView(rbuf.buffer, rbuf.byteOffset, rbuf.byteLength);
let rpos = 0;

/** A buffer of at least `n` bytes for {@link decodeScratch}: copy a record there, then decode it. */
export function decodeBuffer(n: number): Uint8Array {
  if (n > rbuf.length) {
    let size = rbuf.length * 2;
    while (size < n) size *= 2;
    rbuf = Buffer.allocUnsafeSlow(size);
    rview = new DataView(rbuf.buffer, rbuf.byteOffset, rbuf.byteLength);
  }
  return rbuf;
}

function str8(n: number): string {
  const b = rbuf;
  let p = rpos;
  const end = p + n;
  rpos = end;
  if (n > LONG) return b.toString("latin1", p, end);
  let s = "";
  for (; p + 4 <= end; p += 4) s += String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3]);
  for (; p < end; p++) s += String.fromCharCode(b[p]);
  return s;
}

function readLen(): number {
  const n = rview.getUint32(rpos, true);
  rpos += 4;
  return n;
}

// Keys: a direct-mapped cache by (length, first, last byte) of the key strings met last. A hit
// compares the bytes and returns the same string object (no allocation; V8's property caches see
// one internalized name per key).
const KEY_SLOTS = 256;
const keyCache: (string | undefined)[] = new Array<string | undefined>(KEY_SLOTS).fill(undefined);

function readKey(): string {
  const tag = rbuf[rpos++];
  const n = readLen();
  if (tag !== T_STR8 || n === 0 || n > 32) return tag === T_STR8 ? str8(n) : str16(n);
  const b = rbuf;
  const p = rpos;
  const slot = (n * 7 + b[p] * 31 + b[p + n - 1]) & (KEY_SLOTS - 1);
  const k = keyCache[slot];
  if (k !== undefined && k.length === n) {
    let i = 0;
    while (i < n && k.charCodeAt(i) === b[p + i]) i++;
    if (i === n) {
      rpos = p + n;
      return k;
    }
  }
  const s = str8(n);
  keyCache[slot] = s;
  return s;
}

function str16(n: number): string {
  const p = rpos;
  rpos = p + 2 * n;
  return rbuf.toString("utf16le", p, p + 2 * n);
}

function read(): unknown {
  const tag = rbuf[rpos++];
  switch (tag) {
    case T_U8:
      return rbuf[rpos++];
    case T_I32: {
      const v = rview.getInt32(rpos, true);
      rpos += 4;
      return v;
    }
    case T_STR8:
      return str8(readLen());
    case T_OBJ: {
      const n = readLen();
      const o: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        const k = readKey();
        // A key Object.prototype has ("__proto__", or a setter or read-only property someone added)
        // is defined, not assigned: structured clone makes own data properties, calling no setter.
        if (k in Object.prototype) Object.defineProperty(o, k, { value: read(), enumerable: true, writable: true, configurable: true });
        else o[k] = read();
      }
      return o;
    }
    case T_NULL:
      return null;
    case T_UNDEF:
      return undefined;
    case T_TRUE:
      return true;
    case T_FALSE:
      return false;
    case T_F64: {
      const v = rview.getFloat64(rpos, true);
      rpos += 8;
      return v;
    }
    case T_STR16:
      return str16(readLen());
    case T_ARR: {
      const n = readLen();
      const a = new Array<unknown>(n);
      for (let i = 0; i < n; i++) a[i] = read();
      return a;
    }
    default:
      throw new Error(`tsaio/threading Queue: corrupt item (tag ${tag})`);
  }
}

/** The item whose `n` bytes were copied to the start of {@link decodeBuffer}'s buffer. */
export function decodeScratch(n: number): unknown {
  // A copy: v8's deserializer returns typed arrays that view its input, which is reused here.
  if (rbuf[0] === V8) return deserialize(new Uint8Array(rbuf.subarray(1, n)));
  rpos = 1;
  return read();
}

/** The item encoded in `bytes`. */
export function decode(bytes: Uint8Array): unknown {
  decodeBuffer(bytes.length).set(bytes, 0);
  return decodeScratch(bytes.length);
}
