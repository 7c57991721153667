/**
 * ThreadPoolExecutor: the pool on `worker_threads`. Each worker talks to the pool on its own
 * MessageChannel (so that results can be drained with `receiveMessageOnPort`) and shares one Int32
 * with it (which job it is running; see pool.ts).
 * @module
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort, type TransferListItem } from "node:worker_threads";
import { BOOTSTRAP, tsxApiUrl, WORKER_ENTRY } from "./bootstrap.js";
import { defaultThreadWorkers, Executor, WorkerSlot, type ExecutorOptions } from "./pool.js";
import { controlViews, CTL_BELL, CTL_HEAD, CTL_TAIL, CTL_WAKE, DOOMED, newControlBuffer, RING_MASK, T_FALSE, T_NULL, T_NUMBER, T_TRUE, type SharedControl, type WorkerInit } from "./protocol.js";

class ThreadSlot extends WorkerSlot {
  readonly pipelined = true;
  private readonly _worker: Worker;
  private readonly _port: MessagePort;
  private readonly _ctl: Int32Array;
  private readonly _shared: SharedControl;
  /** Next ring entry to read. */
  private _head = 0;
  private _refd = false;

  constructor(pool: ThreadPoolExecutor, id: number) {
    super(id);
    const { port1, port2 } = new MessageChannel();
    this._port = port1;
    const control = newControlBuffer();
    this._shared = controlViews(control);
    this._ctl = this._shared.hdr;
    const init: WorkerInit = {
      kind: "thread",
      entry: WORKER_ENTRY,
      tsxApi: tsxApiUrl(),
      initializer: pool._initializer,
      initargs: pool._initargs,
      maxHeapUsed: pool._maxHeapUsed,
      port: port2,
      control,
    };
    this._worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: init,
      transferList: [port2],
      ...(pool._resourceLimits === undefined ? {} : { resourceLimits: pool._resourceLimits }),
      ...(pool._execArgv === undefined ? {} : { execArgv: [...pool._execArgv] }),
      name: `${pool._name} #${id}`,
    });
    this._worker.unref();
    port1.on("message", (m: unknown) => {
      pool._beginDrain();
      pool._onMessage(this, m);
      let r: { message: unknown } | undefined;
      while (!this.dead && (r = receiveMessageOnPort(port1)) !== undefined) pool._onMessage(this, r.message);
      this._drainRing(pool);
      pool._endDrain(this);
    });
    port1.unref();
    this._worker.on("error", (e: unknown) => {
      if (this.crashError === undefined) this.crashError = e;
    });
    this._worker.on("exit", (code: number) => {
      pool._onExit(this, code, null);
      port1.close();
    });
  }

  describe(): string {
    return `worker thread #${this.id}`;
  }

  post(batch: unknown[], transfer: TransferListItem[]): void {
    if (transfer.length === 0) this._port.postMessage(batch);
    else this._port.postMessage(batch, transfer);
    Atomics.add(this._ctl, CTL_WAKE, 1);
    Atomics.notify(this._ctl, CTL_WAKE, 1);
  }

  terminate(_graceful: boolean): void {
    void this._worker.terminate();
  }

  runningSeq(): number {
    const v = Atomics.load(this._ctl, 0);
    if (v === DOOMED) return this.doomedSeq;
    return v;
  }

  doom(seq: number): boolean {
    if (Atomics.compareExchange(this._ctl, 0, seq, DOOMED) !== seq) return false;
    this.doomedSeq = seq;
    this.accepting = false;
    return true;
  }

  setRef(on: boolean): void {
    if (on === this._refd) return;
    this._refd = on;
    if (on) this._worker.ref();
    else this._worker.unref();
  }

  drainPending(handle: (msg: unknown) => void, pool: Executor): void {
    let r: { message: unknown } | undefined;
    while ((r = receiveMessageOnPort(this._port)) !== undefined) handle(r.message);
    this._drainRing(pool);
  }

  /** Reads the results the worker published in the ring (see protocol.ts), then re-arms the bell. */
  private _drainRing(pool: Executor): void {
    const { hdr, ringInts, ringNums } = this._shared;
    let head = this._head;
    for (;;) {
      const tail = Atomics.load(hdr, CTL_TAIL);
      while (head !== tail) {
        const i = head & RING_MASK;
        const tag = ringInts[2 * i + 1];
        const v = tag === T_NUMBER ? ringNums[i] : tag === T_TRUE ? true : tag === T_FALSE ? false : tag === T_NULL ? null : undefined;
        pool._ringResult(this, ringInts[2 * i], v);
        head = (head + 1) | 0;
      }
      this._head = head;
      Atomics.store(hdr, CTL_HEAD, head);
      if (Atomics.load(hdr, CTL_BELL) === 0) break;
      Atomics.store(hdr, CTL_BELL, 0);
      // Entries published before the bell was cleared did not ring it again: look once more.
      if (Atomics.load(hdr, CTL_TAIL) === head) break;
    }
  }
}

/**
 * A pool of worker threads (concurrent.futures' `ThreadPoolExecutor`, on `worker_threads`): run
 * CPU-bound or blocking work off the event loop and await it as tsaio Futures. Work is named by
 * module and export ({@link workerModule}) or sent as a self-contained function.
 *
 * | option | default | |
 * | --- | --- | --- |
 * | `maxWorkers` | `min(32, cpus + 4)` | threads start on demand, idle ones exit after `idleTimeout` |
 * | `initializer`, `initargs` | none | run in each worker first; a failure breaks the pool |
 * | `maxTasksPerWorker` | never | replace a worker after that many jobs |
 * | `idleTimeout` | 60 000 ms | idle workers never keep the process alive |
 * | `resourceLimits` | Node's | heap/stack limits; a worker over them dies, its job fails |
 * | `timeout` | none | per-job, counted from the job's start |
 * | `cancelGracePeriod` | 3 000 ms | then a cancelled job's worker is terminated |
 * | `maxHeapUsed` | never | recycle a worker between jobs past this heap size |
 * | `execArgv` | this process's | e.g. loaders |
 *
 * Threads share `SharedArrayBuffer`s and can receive transferred buffers (`transfer()`), so data
 * can cross without copies.
 * @example
 * ```ts
 * import { ThreadPoolExecutor, gather, workerModule } from "tsaio";
 * const jobs = workerModule<typeof import("./jobs.js")>(new URL("./jobs.js", import.meta.url));
 * await using pool = new ThreadPoolExecutor({ maxWorkers: 4 });
 * const counts = await gather([1e6, 2e6, 3e6].map((n) => pool.submit(jobs.fns.countPrimes, n)));
 * console.log(counts); // [ 78498, 148933, 216816 ]
 * ```
 */
export class ThreadPoolExecutor extends Executor {
  constructor(options?: ExecutorOptions) {
    super("ThreadPoolExecutor", options, defaultThreadWorkers());
  }

  /** @internal */
  protected _spawn(id: number): WorkerSlot {
    return new ThreadSlot(this, id);
  }
}
