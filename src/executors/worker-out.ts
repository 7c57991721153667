/**
 * How a worker reports a job's outcome: a plain result of a thread worker goes into the shared
 * results ring (protocol.ts), rung in with a doorbell message only when the pool is not already due
 * to look; anything else is posted at once as a message (never buffered, so a worker that dies has
 * reported everything it finished).
 * Internal: not part of the package's public API.
 * @module
 */
import type { TransferListItem } from "node:worker_threads";
import {
  CTL_BELL,
  CTL_HEAD,
  CTL_TAIL,
  encodeError,
  isTransferMarker,
  R_BELL,
  R_ERR,
  R_OK,
  RING_MASK,
  RING_SIZE,
  T_FALSE,
  T_NULL,
  T_NUMBER,
  T_TRUE,
  T_UNDEFINED,
  type SharedControl,
} from "./protocol.js";
import type { FnRecord } from "./worker-fns.js";

/** @internal Posts one message to the pool. */
export type Send = (msg: unknown[], transfer?: readonly TransferListItem[]) => void;

const BELL = [R_BELL];

/** @internal */
export class Outbox {
  /** Next results-ring entry to write (thread workers). */
  private _ringTail = 0;

  constructor(
    private readonly _send: Send,
    private readonly _shared: SharedControl | null,
  ) {}

  /** Reports job `seq`'s result. */
  result(seq: number, value: unknown, rec: FnRecord): void {
    if (this._shared !== null && this._publish(this._shared, seq, value)) return;
    let v = value;
    let transfer: readonly TransferListItem[] | undefined;
    if (isTransferMarker(v)) {
      transfer = v.transferList;
      v = v.value;
    }
    try {
      this._send([R_OK, seq, v], transfer);
    } catch (e) {
      this.error(seq, new TypeError(`the result of ${rec.def.b} cannot be sent back from the worker: ${(e as Error).message ?? String(e)}`, { cause: e }));
    }
  }

  /** Reports job `seq`'s error. */
  error(seq: number, error: unknown): void {
    try {
      this._send([R_ERR, seq, encodeError(error)]);
    } catch {
      this._send([R_ERR, seq, String((error as Error)?.stack ?? error)]);
    }
  }

  /** Writes a plain result into the shared ring (see protocol.ts); false if it does not fit there. */
  private _publish(sh: SharedControl, seq: number, value: unknown): boolean {
    const t = typeof value;
    const tag =
      t === "number" ? T_NUMBER : t === "boolean" ? (value === true ? T_TRUE : T_FALSE) : value === null ? T_NULL : value === undefined ? T_UNDEFINED : 0;
    if (tag === 0) return false;
    const hdr = sh.hdr;
    const tail = this._ringTail;
    if (((tail - Atomics.load(hdr, CTL_HEAD)) | 0) >= RING_SIZE) return false; // full: the message path
    const i = tail & RING_MASK;
    sh.ringInts[2 * i] = seq;
    sh.ringInts[2 * i + 1] = tag;
    if (tag === T_NUMBER) sh.ringNums[i] = value as number;
    this._ringTail = (tail + 1) | 0;
    Atomics.store(hdr, CTL_TAIL, this._ringTail); // committed: survives this worker
    if (Atomics.compareExchange(hdr, CTL_BELL, 0, 1) === 0) this._send(BELL);
    return true;
  }
}
