/**
 * `tsaio/multiprocessing`: Python's `multiprocessing` for Node — `Process`, `Pipe`, `Queue`,
 * `Manager`, and `multiprocessing.connection`'s `Listener`/`Client` — for work in other processes,
 * where memory cannot be shared. Not loaded by `import "tsaio"`.
 *
 * - `Process` runs one function of a worker module in a child process of its own: `start()`,
 *   `await join()`, `exitCode` as Python's (0, 1 if the target threw, -N for signal N),
 *   `terminate()`/`kill()`, `await using`. The child imports only the target's module, never your
 *   main module, and never outlives its parent.
 * - `Pipe()` gives two connected {@link Connection}s (`send`/`recv` with structured-clone semantics,
 *   `poll(timeout)`, `sendBytes`/`recvBytes`); `Listener`/`Client` connect any two processes over a
 *   Unix socket (a named pipe on Windows) with an HMAC `authkey` challenge.
 * - `Queue` is process-safe and multi-producer multi-consumer: it lives in the process that made it
 *   and its copies elsewhere are clients; an item whose `put` returned is never lost while that process
 *   lives, and a consumer killed mid-`get` gives its item back.
 * - `Manager()` starts a server process holding shared `dict`, `list`, `Namespace`, `Value`, `Lock` and
 *   `RLock` objects. Every process reaches them through async proxies (`await d.get(k)`).
 *
 * Connections, queues and proxies given to a `Process`, to a `ProcessPoolExecutor` or
 * `ThreadPoolExecutor` job (top level, nested in arguments, in `map()` chunks, or returned) arrive
 * there as working objects. Every wait is a tsaio cancellation point and takes `{ signal, timeout }`;
 * a peer that dies ends its connections with `EOFError` — nothing hangs.
 * @example
 * ```ts
 * import { Pipe } from "tsaio/multiprocessing";
 * const [a, b] = Pipe<{ n: number }>();
 * await a.send({ n: 41 });
 * const got = await b.recv();
 * console.log(got.n + 1); // 42
 * a.close();
 * b.close();
 * ```
 * @module
 */
export { AuthenticationError, BrokenPipeError, Client, Connection, EOFError, Listener, Pipe, type ClientOptions, type ListenerOptions, type WaitOptions } from "./connection.js";
export { Queue } from "./queue.js";
export { Process, type JoinOptions, type ProcessOptions } from "./process.js";
export {
  BaseProxy,
  DictProxy,
  ListProxy,
  LockProxy,
  Manager,
  NamespaceProxy,
  RLockProxy,
  SyncManager,
  ValueProxy,
  type AcquireOptions,
  type DictKey,
  type ManagerOptions,
  type Typecode,
  type TypecodeValue,
} from "./manager.js";
