/**
 * The Queue's item codec: a compact binary form for plain data — null, undefined, booleans,
 * numbers, strings, dense arrays and plain objects of them — written by hand (several times faster
 * than `v8.serialize` for small objects), and `v8.serialize` for everything else (Date, Map,
 * bigint, typed arrays, cycles…), so items keep structured-clone semantics either way: same values,
 * same own enumerable string keys in the same order, lone surrogates kept (strings travel as UTF-16
 * code units, one byte each when all are below 256), -0 kept. The first byte says which form.
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

const MAX_DEPTH = 32;

let buf = new Uint8Array(4096);
let view = new DataView(buf.buffer);
let pos = 0;

function ensure(n: number): void {
  if (pos + n <= buf.length) return;
  let size = buf.length * 2;
  while (size < pos + n) size *= 2;
  const next = new Uint8Array(size);
  next.set(buf.subarray(0, pos));
  buf = next;
  view = new DataView(buf.buffer);
}

/** Thrown inside the encoder: this value needs the v8 form. */
const NOT_PLAIN = { notPlain: true };

function writeStr(s: string): void {
  const n = s.length;
  let wide = false;
  for (let i = 0; i < n; i++) {
    if (s.charCodeAt(i) > 0xff) {
      wide = true;
      break;
    }
  }
  ensure(5 + n * (wide ? 2 : 1));
  buf[pos++] = wide ? T_STR16 : T_STR8;
  view.setUint32(pos, n, true);
  pos += 4;
  if (wide) {
    for (let i = 0; i < n; i++, pos += 2) view.setUint16(pos, s.charCodeAt(i), true);
  } else {
    for (let i = 0; i < n; i++) buf[pos++] = s.charCodeAt(i);
  }
}

function write(v: unknown, depth: number): void {
  switch (typeof v) {
    case "number":
      if ((v | 0) === v && !Object.is(v, -0)) {
        ensure(5);
        buf[pos++] = T_I32;
        view.setInt32(pos, v, true);
        pos += 4;
      } else {
        ensure(9);
        buf[pos++] = T_F64;
        view.setFloat64(pos, v, true);
        pos += 8;
      }
      return;
    case "string":
      writeStr(v);
      return;
    case "boolean":
      ensure(1);
      buf[pos++] = v ? T_TRUE : T_FALSE;
      return;
    case "undefined":
      ensure(1);
      buf[pos++] = T_UNDEF;
      return;
    case "object": {
      if (v === null) {
        ensure(1);
        buf[pos++] = T_NULL;
        return;
      }
      if (depth >= MAX_DEPTH) throw NOT_PLAIN; // deep, or a cycle: the v8 form handles both
      if (Array.isArray(v)) {
        const n = v.length;
        if (Object.keys(v).length !== n) throw NOT_PLAIN; // holes or extra properties
        ensure(5);
        buf[pos++] = T_ARR;
        view.setUint32(pos, n, true);
        pos += 4;
        for (let i = 0; i < n; i++) write(v[i], depth + 1);
        return;
      }
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) throw NOT_PLAIN;
      const keys = Object.keys(v);
      ensure(5);
      buf[pos++] = T_OBJ;
      view.setUint32(pos, keys.length, true);
      pos += 4;
      for (const k of keys) {
        writeStr(k);
        write((v as Record<string, unknown>)[k], depth + 1);
      }
      return;
    }
    default:
      throw NOT_PLAIN; // bigint, symbol, function: v8 clones bigints and refuses the others
  }
}

/** The bytes of `item` (a fresh copy), in the plain form when it applies, else v8's. Throws DataCloneError like postMessage. */
export function encode(item: unknown): Uint8Array {
  pos = 0;
  try {
    ensure(1);
    buf[pos++] = PLAIN;
    write(item, 0);
    return buf.slice(0, pos);
  } catch (e) {
    if (e !== NOT_PLAIN) throw e;
  }
  const v8 = serialize(item);
  const out = new Uint8Array(v8.length + 1);
  out[0] = V8;
  out.set(v8, 1);
  return out;
}

let rbuf: Uint8Array = buf;
let rview: DataView = view;
let rpos = 0;

function readStr(tag: number): string {
  const n = rview.getUint32(rpos, true);
  rpos += 4;
  let s = "";
  if (tag === T_STR8) {
    for (let i = 0; i < n; i++) s += String.fromCharCode(rbuf[rpos++]);
  } else {
    for (let i = 0; i < n; i++, rpos += 2) s += String.fromCharCode(rview.getUint16(rpos, true));
  }
  return s;
}

function read(): unknown {
  const tag = rbuf[rpos++];
  switch (tag) {
    case T_NULL:
      return null;
    case T_UNDEF:
      return undefined;
    case T_TRUE:
      return true;
    case T_FALSE:
      return false;
    case T_I32: {
      const v = rview.getInt32(rpos, true);
      rpos += 4;
      return v;
    }
    case T_F64: {
      const v = rview.getFloat64(rpos, true);
      rpos += 8;
      return v;
    }
    case T_STR8:
    case T_STR16:
      return readStr(tag);
    case T_ARR: {
      const n = rview.getUint32(rpos, true);
      rpos += 4;
      const a = new Array<unknown>(n);
      for (let i = 0; i < n; i++) a[i] = read();
      return a;
    }
    case T_OBJ: {
      const n = rview.getUint32(rpos, true);
      rpos += 4;
      const o: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        const k = readStr(rbuf[rpos++]);
        o[k] = read();
      }
      return o;
    }
    default:
      throw new Error(`tsaio/threading Queue: corrupt item (tag ${tag})`);
  }
}

/** The item encoded in `bytes`. */
export function decode(bytes: Uint8Array): unknown {
  if (bytes[0] === V8) return deserialize(bytes.subarray(1));
  rbuf = bytes;
  rview = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  rpos = 1;
  return read();
}
