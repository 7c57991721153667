/**
 * The server process of a `SyncManager` (Python's `multiprocessing.managers.Server`): it holds the
 * shared objects and runs every operation a proxy asks for, one at a time (so each operation is
 * atomic), on connections from a `Listener` guarded by the manager's authkey.
 *
 * ## Protocol (on one Connection per client process, messages are arrays)
 * - client → server: `[id, obj, method, args, owner]` — run `method` of object `obj` (0: the
 *   server itself: `create`, `cancel`); `owner` names the task for an RLock. `id` 0 asks for no
 *   reply (an abandoned acquire's release, a cancel).
 * - server → client: `[id, OK, value]` · `[id, ERR, error]` (encoded as the executors encode job
 *   errors: same class, message and stack on the other side) · `[id, GAVE_UP]` (an acquire cancelled
 *   before the lock was granted).
 *
 * A lock acquire that must wait is answered when the lock is granted (so one connection carries any
 * number of pending acquires); a cancel removes it from the queue if it is still there. When a
 * client's connection ends — its process exited or was killed — every lock it held is released
 * and its queued acquires are dropped: a dead process never wedges a lock.
 *
 * The process lives until its parent disconnects (`SyncManager.shutdown()`, or the parent's exit),
 * and a watchdog thread kills it if the parent dies without a word.
 * Internal: not part of the package's public API.
 * @module
 */
import "../loop.js";
import { INIT_KEY } from "../executors/bootstrap.js";
import { encodeError } from "../executors/protocol.js";
import { watchParent } from "../executors/watchdog.js";
import { InvalidStateError } from "../errors.js";
import { Deque } from "../internal/ring.js";
import { deserialize } from "node:v8";
import { type Connection, Listener, type Sink } from "./connection.js";
import { checkKey, checkTypecodeValue, flushSoon, KIND_CLASS, type ObjKind, OK, ERR, GAVE_UP } from "./manager-protocol.js";

interface ServerInit {
  parentPid: number;
  authkey: string;
  unbuffer?: () => void;
}

/** One client process's connection. */
class Peer {
  constructor(
    readonly conn: Connection,
    readonly n: number,
  ) {}
  /** Locks this peer holds (to release if it dies). */
  readonly holding = new Set<LockObj>();
  /** Acquires this peer has queued, by request id. */
  readonly waiting = new Map<number, LockObj>();
  closed = false;

  reply(msg: unknown[]): void {
    if (this.closed) return;
    try {
      void this.conn.send(msg).catch(() => {});
      flushSoon(this.conn);
    } catch (e) {
      // A value that cannot be cloned back (it was cloned in, so this is rare): say so.
      if (msg[1] === OK) void this.conn.send([msg[0], ERR, encodeError(e)]).catch(() => {});
    }
  }
}

interface Waiting {
  peer: Peer;
  id: number;
  owner: string;
}

class LockObj {
  holder: Peer | null = null;
  owner = "";
  count = 0;
  readonly queue = new Deque<Waiting>();
  constructor(readonly reentrant: boolean) {}

  /** Hands the lock to the first live waiter, if any. */
  grantNext(): void {
    for (let w = this.queue.shift(); w !== undefined; w = this.queue.shift()) {
      if (w.peer.closed || !w.peer.waiting.has(w.id)) continue;
      w.peer.waiting.delete(w.id);
      this.take(w.peer, w.owner);
      w.peer.reply([w.id, OK, true]);
      return;
    }
  }

  take(peer: Peer, owner: string): void {
    this.holder = peer;
    this.owner = owner;
    this.count = 1;
    peer.holding.add(this);
  }

  /** Frees the lock entirely (release of the last level, or its holder died). */
  free(): void {
    this.holder?.holding.delete(this);
    this.holder = null;
    this.owner = "";
    this.count = 0;
    this.grantNext();
  }
}

interface ValueObj {
  typecode: string;
  v: unknown;
}

type Obj = { kind: "dict"; v: Map<unknown, unknown> } | { kind: "list"; v: unknown[] } | { kind: "Namespace"; v: Map<string, unknown> } | { kind: "Value"; v: ValueObj } | { kind: "Lock" | "RLock"; v: LockObj };

const objects = new Map<number, Obj>();
let nextObj = 1;
let nextPeer = 1;

function index(i: unknown, len: number, what: string, forInsert = false): number {
  if (typeof i !== "number" || !Number.isInteger(i)) throw new TypeError(`${what}: \`index\` must be an integer, got ${typeof i === "number" ? i : typeof i}`);
  const j = i < 0 ? i + len : i;
  if (forInsert) return Math.min(Math.max(j, 0), len);
  if (j < 0 || j >= len) throw new RangeError(`${what}: index ${i} out of range (length ${len})`);
  return j;
}

function create(kind: ObjKind, args: unknown[]): number {
  let o: Obj;
  switch (kind) {
    case "dict":
      o = { kind, v: new Map(args[0] as [unknown, unknown][] | undefined) };
      break;
    case "list":
      o = { kind, v: (args[0] as unknown[] | undefined) ?? [] };
      break;
    case "Namespace":
      o = { kind, v: new Map(Object.entries((args[0] as Record<string, unknown> | undefined) ?? {})) };
      break;
    case "Value":
      checkTypecodeValue(args[0], args[1], "SyncManager.Value");
      o = { kind, v: { typecode: args[0] as string, v: args[1] } };
      break;
    case "Lock":
    case "RLock":
      o = { kind, v: new LockObj(kind === "RLock") };
      break;
    default:
      throw new TypeError(`SyncManager: unknown object kind ${String(kind)}`);
  }
  const id = nextObj++;
  objects.set(id, o);
  return id;
}

/** Runs one request; returns its reply value, or NO_REPLY_YET for an acquire that waits. */
const NO_REPLY_YET = Symbol("wait");

function run(peer: Peer, id: number, objId: number, method: string, args: unknown[], owner: string): unknown {
  if (objId === 0) {
    if (method === "create") return create(args[0] as ObjKind, args.slice(1));
    if (method === "cancel") {
      const rid = args[0] as number;
      if (peer.waiting.delete(rid)) peer.reply([rid, GAVE_UP]);
      return undefined;
    }
    if (method === "count") return objects.size;
    throw new TypeError(`SyncManager: unknown request ${method}`);
  }
  const o = objects.get(objId);
  if (o === undefined) throw new InvalidStateError(`the manager has no object #${objId} (it belongs to another manager, or to one that was restarted)`);
  const what = `${KIND_CLASS[o.kind]}.${method}`;
  switch (o.kind) {
    case "dict": {
      const m = o.v;
      switch (method) {
        case "get":
          return m.has(args[0]) ? m.get(args[0]) : args[1];
        case "set":
          m.set(checkKey(args[0], what), args[1]);
          return undefined;
        case "has":
          return m.has(args[0]);
        case "delete":
          return m.delete(args[0]);
        case "pop": {
          if (!m.has(args[0])) return args[1];
          const v = m.get(args[0]);
          m.delete(args[0]);
          return v;
        }
        case "setDefault":
          if (!m.has(args[0])) m.set(checkKey(args[0], what), args[1]);
          return m.get(args[0]);
        case "keys":
          return [...m.keys()];
        case "values":
          return [...m.values()];
        case "entries":
          return [...m.entries()];
        case "size":
          return m.size;
        case "clear":
          m.clear();
          return undefined;
        case "update":
          for (const [k, v] of args[0] as [unknown, unknown][]) m.set(checkKey(k, what), v);
          return undefined;
        case "copy":
          return new Map(m);
      }
      break;
    }
    case "list": {
      const a = o.v;
      switch (method) {
        case "get":
          return a[index(args[0], a.length, what)];
        case "set":
          a[index(args[0], a.length, what)] = args[1];
          return undefined;
        case "append":
          a.push(args[0]);
          return a.length;
        case "extend":
          for (const v of args[0] as unknown[]) a.push(v);
          return a.length;
        case "insert":
          a.splice(index(args[0], a.length, what, true), 0, args[1]);
          return a.length;
        case "pop": {
          if (a.length === 0) throw new RangeError(`${what}: pop from an empty list`);
          const j = index(args[0] ?? -1, a.length, what);
          return a.splice(j, 1)[0];
        }
        case "length":
          return a.length;
        case "slice":
          return a.slice(args[0] as number | undefined, args[1] as number | undefined);
        case "toArray":
          return a;
        case "clear":
          a.length = 0;
          return undefined;
      }
      break;
    }
    case "Namespace": {
      const m = o.v;
      switch (method) {
        case "get":
          return m.get(args[0] as string);
        case "set":
          m.set(args[0] as string, args[1]);
          return undefined;
        case "has":
          return m.has(args[0] as string);
        case "delete":
          return m.delete(args[0] as string);
        case "toObject":
          return Object.fromEntries(m);
      }
      break;
    }
    case "Value": {
      const v = o.v;
      switch (method) {
        case "get":
          return v.v;
        case "set":
          checkTypecodeValue(v.typecode, args[0], what);
          v.v = args[0];
          return undefined;
      }
      break;
    }
    case "Lock":
    case "RLock": {
      const l = o.v;
      const ownerKey = `${peer.n}:${owner}`;
      switch (method) {
        case "acquire": {
          if (l.holder === null) {
            l.take(peer, ownerKey);
            return true;
          }
          if (l.reentrant && l.owner === ownerKey) {
            l.count++;
            return true;
          }
          if (args[0] === false) return false; // non-blocking
          l.queue.push({ peer, id, owner: ownerKey });
          peer.waiting.set(id, l);
          return NO_REPLY_YET;
        }
        case "release": {
          if (l.holder === null) throw new InvalidStateError(`${what}: the lock is not acquired`);
          if (l.reentrant) {
            if (l.owner !== ownerKey) throw new InvalidStateError(`${what}: the lock is held by another task or process`);
            if (--l.count > 0) return undefined;
          }
          l.free();
          return undefined;
        }
        case "locked":
          return l.holder !== null;
        case "state":
          return [l.holder === null ? null : l.holder.n, l.count, l.queue.length];
      }
      break;
    }
  }
  throw new TypeError(`${what}: no such operation`);
}

/**
 * Serves one client: its frames are handled as they arrive (the server is the socket link's sink:
 * no `recv()` wait per request), each request run to its reply before the next.
 */
function serve(peer: Peer): void {
  const link = peer.conn._link as { sink: Sink | null } | null;
  if (link === null) return;
  link.sink = {
    _frame(b: Buffer): void {
      let msg: unknown;
      try {
        msg = deserialize(b);
      } catch {
        gone(peer); // not our protocol: drop the client
        return;
      }
      const [id, objId, method, args, owner] = msg as [number, number, string, unknown[], string];
      try {
        const r = run(peer, id, objId, method, args, owner);
        if (r !== NO_REPLY_YET && id !== 0) peer.reply([id, OK, r]);
      } catch (e) {
        if (id !== 0) peer.reply([id, ERR, encodeError(e)]);
      }
    },
    _end(): void {
      gone(peer);
    },
  };
}

/** The client's process closed the connection, exited or died: what it held is released, what it waited for dropped. */
function gone(peer: Peer): void {
  if (peer.closed) return;
  peer.closed = true;
  peer.conn.close();
  peer.waiting.clear();
  for (const l of [...peer.holding]) l.free();
}

const init = (globalThis as unknown as Record<string, ServerInit>)[INIT_KEY];
init.unbuffer?.();
const listener = new Listener(undefined, { authkey: init.authkey });
process.on("disconnect", () => {
  listener.close();
  process.exit(0);
});
watchParent(init.parentPid);
(process.send as (m: unknown) => boolean)({ address: listener.address });
void (async () => {
  for (;;) {
    let conn: Connection;
    try {
      conn = await listener.accept();
    } catch {
      return;
    }
    serve(new Peer(conn, nextPeer++));
  }
})();
