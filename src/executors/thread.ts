/**
 * ThreadPoolExecutor: the pool on `worker_threads`. Each worker talks to the pool on its own
 * MessageChannel (so that results can be read synchronously with `receiveMessageOnPort`) and shares a control
 * buffer with it: which job it is running, a ring of plain results, and the veto table that stops a
 * job pipelined into it from starting (protocol.ts).
 * @module
 */
import dc from "node:diagnostics_channel";
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort, type TransferListItem } from "node:worker_threads";
import { BOOTSTRAP, tsxApiUrl, WORKER_ENTRY } from "./bootstrap.js";
import type { ExecutorFuture } from "./future.js";
import { defaultThreadWorkers, Executor } from "./pool.js";
import type { ExecutorOptions } from "./options.js";
import {
  controlViews,
  CTL_BELL,
  CTL_HEAD,
  CTL_RUNNING,
  CTL_TAIL,
  CTL_WAKE,
  DOOMED,
  newControlBuffer,
  RING_MASK,
  T_FALSE,
  T_NULL,
  T_NUMBER,
  T_TRUE,
  type SharedControl,
  type WorkerInit,
} from "./protocol.js";
import { WorkerSlot, type SlotEvents, type SlotInit } from "./slot.js";

type Job = ExecutorFuture<unknown>;

/**
 * `{ threadId }` of a worker thread that has exited, before its jobs are settled: tsaio/threading
 * releases what the thread held (its crash recovery) without either side importing the other.
 */
const threadExit = dc.channel("tsaio:executor:thread-exit");

/** One worker thread: its port, its shared control buffer (running job, results ring, vetoes). */
class ThreadSlot extends WorkerSlot {
  readonly pipelined = true;
  private readonly _worker: Worker;
  private readonly _port: MessagePort;
  private readonly _ctl: Int32Array;
  private readonly _shared: SharedControl;
  private readonly _events: SlotEvents;
  /** Next ring entry to read. */
  private _head = 0;
  private _refd = false;

  constructor({ id, settings, events }: SlotInit) {
    super(id);
    this._events = events;
    const { port1, port2 } = new MessageChannel();
    this._port = port1;
    const control = newControlBuffer();
    this._shared = controlViews(control);
    this._ctl = this._shared.hdr;
    const init: WorkerInit = {
      kind: "thread",
      entry: WORKER_ENTRY,
      tsxApi: tsxApiUrl(),
      initializer: settings.initializer,
      initargs: settings.initargs,
      maxHeapUsed: settings.maxHeapUsed,
      port: port2,
      control,
    };
    this._worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: init,
      transferList: [port2],
      ...(settings.resourceLimits === undefined ? {} : { resourceLimits: settings.resourceLimits }),
      ...(settings.execArgv === undefined ? {} : { execArgv: [...settings.execArgv] }),
      name: `${settings.name} #${id}`,
    });
    this._worker.unref();
    port1.on("message", (m: unknown) => {
      events.message(this, m);
      let r: { message: unknown } | undefined;
      while (!this.dead && (r = receiveMessageOnPort(port1)) !== undefined) events.message(this, r.message);
      this._readRing();
      events.reportsDone(this);
    });
    port1.unref();
    this._worker.on("error", (e: unknown) => {
      if (this.crashError === undefined) this.crashError = e;
    });
    const threadId = this._worker.threadId; // -1 once it has exited
    this._worker.on("exit", (code: number) => {
      if (threadExit.hasSubscribers) threadExit.publish({ threadId });
      if (!this.dead) {
        // Results it posted before dying are still in the port and the ring: report them first.
        let r: { message: unknown } | undefined;
        while ((r = receiveMessageOnPort(port1)) !== undefined) events.message(this, r.message);
        this._readRing();
        events.exited(this, code, null);
      }
      port1.close();
    });
  }

  describe(): string {
    return `worker thread #${this.id}`;
  }

  /** @internal */
  protected override _osIdText(): string {
    return ` tid=${this._worker.threadId}`;
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
    const v = Atomics.load(this._ctl, CTL_RUNNING);
    if (v === DOOMED) return this.doomedSeq;
    return v;
  }

  isRunning(job: Job): boolean {
    return this.runningSeq() === job._seq;
  }

  doom(job: Job): boolean {
    if (Atomics.compareExchange(this._ctl, CTL_RUNNING, job._seq, DOOMED) !== job._seq) return false;
    this.doomedSeq = job._seq;
    this.accepting = false;
    return true;
  }

  veto(job: Job): boolean {
    if (job._vetoed) return true;
    if (job._vi < 0) return false;
    // Write, then read: the worker claims, then reads (see "Vetoes" in protocol.ts).
    Atomics.store(this._shared.vetoes, job._vi, job._seq);
    if (Atomics.load(this._ctl, CTL_RUNNING) === job._seq) return false;
    job._vetoed = true;
    return true;
  }

  setRef(on: boolean): void {
    if (on === this._refd) return;
    this._refd = on;
    if (on) this._worker.ref();
    else this._worker.unref();
  }

  /** Reads the results the worker published in the ring (see protocol.ts), then re-arms the bell. */
  private _readRing(): void {
    const { hdr, ringInts, ringNums } = this._shared;
    const events = this._events;
    let head = this._head;
    for (;;) {
      const tail = Atomics.load(hdr, CTL_TAIL);
      while (head !== tail) {
        const i = head & RING_MASK;
        const tag = ringInts[2 * i + 1];
        const v = tag === T_NUMBER ? ringNums[i] : tag === T_TRUE ? true : tag === T_FALSE ? false : tag === T_NULL ? null : undefined;
        events.result(this, ringInts[2 * i], v);
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
 * Options: see the table on {@link ExecutorOptions} (`maxWorkers` defaults to `min(32, cpus + 4)`;
 * threads start on demand unless `prestart`, and idle ones exit after `idleTimeout`).
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
  protected _spawn(init: SlotInit): WorkerSlot {
    return new ThreadSlot(init);
  }
}
