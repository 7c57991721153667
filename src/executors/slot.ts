/**
 * A worker as the executor sees it: {@link WorkerSlot}, the state the executor keeps per worker
 * plus the few operations every backend must provide; and {@link SlotEvents}, the narrow interface
 * through which a backend reports what its worker did. A new backend (thread, process, remote) is a
 * subclass of WorkerSlot that posts batches, reports messages and its exit through SlotEvents, and
 * knows how to tell (or guess) which job its worker is running.
 * Internal: not part of the package's public API.
 * @module
 */
import type { TransferListItem } from "node:worker_threads";
import type { LongTimeout } from "../internal/timers.js";
import { countText, type DescribeOptions } from "../internal/describe.js";
import type { ExecutorFuture } from "./future.js";
import type { Settings } from "./options.js";
import { Inflight } from "./queue.js";

type Job = ExecutorFuture<unknown>;

/** @internal What a backend reports about its worker. Called by the backend, never the other way round. */
export interface SlotEvents {
  /** One message from the worker (protocol.ts: `R_OK, seq, value`, `R_STARTED, seq`…). */
  message(slot: WorkerSlot, msg: unknown): void;
  /** A plain result the worker published in shared memory (thread workers' results ring). */
  result(slot: WorkerSlot, seq: number, value: unknown): void;
  /** Every message available now was reported: time to refill the worker or let it idle. */
  reportsDone(slot: WorkerSlot): void;
  /** The worker is gone. Everything it posted before was reported first. */
  exited(slot: WorkerSlot, code: number | null, signal: NodeJS.Signals | null): void;
}

/** @internal What a backend is given to start a worker. */
export interface SlotInit {
  readonly id: number;
  readonly settings: Settings;
  readonly events: SlotEvents;
}

/** @internal One worker (thread, process…) and what the executor knows about it. */
export abstract class WorkerSlot {
  readonly id: number;
  /** Jobs sent to this worker and not yet reported over, in send order. */
  readonly inflight = new Inflight<Job>();
  /** Function ids this worker knows. */
  readonly defined = new Set<number>();
  /** The batch being built for this worker (flat ops, see protocol.ts). */
  ops: unknown[] = [];
  opsTransfer: TransferListItem[] = [];
  /** Jobs assigned to it so far (for `maxTasksPerWorker`, and the veto entries of thread workers). */
  sent = 0;
  /** It ran its initializer and takes jobs. */
  ready = false;
  /** It may be given new jobs. */
  accepting = true;
  dead = false;
  /** The executor asked it to exit (idle, retired, broken executor): its exit is no crash. */
  expectedExit = false;
  /** Why the executor killed it (for the killed job's error). */
  killNote: string | null = null;
  /** The uncaught error it died of, if known. */
  crashError: unknown = undefined;
  /** The job it was condemned in (see `doom`), 0 if none. */
  doomedSeq = 0;
  /** Retires it after `idleTimeout` without work (re-armed lazily, see slots.ts). */
  idleTimer: LongTimeout | null = null;
  idleSince = 0;
  /** Jobs reported over since the last `reportsDone`. */
  completions = 0;
  /** When the last report with completions ended, and whether it still had work then (job-time learning). */
  lastReport = 0;
  busyAtLastReport = false;

  constructor(id: number) {
    this.id = id;
  }

  /** "worker thread #2", "process worker #3 (pid 1234)". */
  abstract describe(): string;

  /** @internal Its describer: which worker, its state, the job running, jobs held (sent, not reported) and sent in all. */
  _describe(_o: DescribeOptions): string {
    const state = this.dead ? "dead" : !this.ready ? "starting" : this.inflight.size > 0 ? "busy" : "idle";
    const running = this.dead || this.inflight.size === 0 ? 0 : this.runningSeq(); // idle: its last seq may linger
    const retiring = !this.accepting && !this.dead ? " retiring" : "";
    return `<${this.describe()}${this._osIdText()} ${state}${retiring}${running > 0 ? ` running=#${running}` : ""}${countText("holds", this.inflight.size)} jobs=${this.sent}>`;
  }

  /** @internal The OS-level id not already in `describe()` (a thread's `tid=7`), with a leading space. */
  protected _osIdText(): string {
    return "";
  }
  /** Whether it may hold more than one job (it takes them in order). */
  abstract readonly pipelined: boolean;
  /** Posts a batch; throws synchronously if it cannot be serialized. */
  abstract post(batch: unknown[], transfer: TransferListItem[]): void;
  /** Stops the worker now (its exit is reported). `graceful`: it is idle, let it exit cleanly. */
  abstract terminate(graceful: boolean): void;
  /** The seq of the job running in it now, 0 if none (or unknown). */
  abstract runningSeq(): number;
  /** Whether `job`, which it holds, may be running now (a job that can start at any moment counts). */
  abstract isRunning(job: Job): boolean;
  /** Condemns the worker if `job` is running in it now (it will start nothing else); true if so. */
  abstract doom(job: Job): boolean;
  /**
   * Makes sure `job`, which it holds, never starts; true if so (false: it may have started). A
   * vetoed job is still reported (cancelled) by the worker, which frees its capacity.
   */
  abstract veto(job: Job): boolean;
  /** Whether the worker keeps the process alive. */
  abstract setRef(on: boolean): void;
}
