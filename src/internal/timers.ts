/**
 * Node timers for any delay. `setTimeout` takes at most 2³¹−1 ms (~24.8 days): past that, and for
 * Infinity, it prints a `TimeoutOverflowWarning` and fires after 1 ms — so a "never" would wake the
 * thread every millisecond. Here Infinity arms nothing, and a longer delay is armed in steps.
 * The loop arms its one timer through `clampDelay`; code that needs a plain Node timer (executor job
 * timeouts, grace periods, idle retirement) uses `LongTimeout`.
 * Internal: not part of the package's public API.
 */

/** The longest delay `setTimeout` accepts, in ms. */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

/** A finite delay (ms) as `setTimeout` takes it: at least 1, at most {@link MAX_TIMER_DELAY}. */
export function clampDelay(ms: number): number {
  return ms <= 1 ? 1 : ms >= MAX_TIMER_DELAY ? MAX_TIMER_DELAY : Math.ceil(ms);
}

/**
 * `setTimeout(fn, ms)` for any `ms >= 0`: Infinity never fires (and holds nothing), a delay past
 * 2³¹−1 ms re-arms until the deadline. `unref: true` does not keep the process alive.
 */
export class LongTimeout {
  /** @internal */
  private _timer: NodeJS.Timeout | null = null;
  /** @internal */
  private readonly _deadline: number;

  constructor(
    /** @internal */
    private readonly _fn: () => void,
    ms: number,
    /** @internal */
    private readonly _unref = false,
  ) {
    this._deadline = performance.now() + ms;
    if (ms !== Infinity) this._arm();
  }

  /** Whether the callback can still run. */
  get pending(): boolean {
    return this._timer !== null;
  }

  /** Stops the timer (no effect once it fired). */
  cancel(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  /** @internal */
  private _arm(): void {
    const t = setTimeout(this._fire, clampDelay(this._deadline - performance.now()));
    if (this._unref) t.unref();
    this._timer = t;
  }

  /** @internal */
  private readonly _fire = (): void => {
    this._timer = null;
    if (performance.now() < this._deadline - 0.5) this._arm();
    else this._fn();
  };
}
