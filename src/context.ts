/**
 * Which task and which loop the running code belongs to: the state itself lives in
 * `internal/ambient.ts`, below the loop (the loop runs its handles through it); this module
 * re-exports it with the real types (`Loop`) for the modules above the loop. The typed functions
 * are the same functions, cast: no extra call on the hot paths.
 * Internal: not part of the package's public API.
 * @module
 */
import {
  enclosingTaskOrLoop as enclosingAny,
  onDefaultLoop as onDefaultAny,
  runningLoop as runningAny,
  type AmbientTask,
} from "./internal/ambient.js";
import type { Loop } from "./loop.js";

export { ambientTask, enterHandle, leaveHandle, runOutsideTask, setHandleTask, taskStorage, type AmbientTask, type HandleState } from "./internal/ambient.js";

/** The loop of the running code: a handle's loop, the ambient task's loop, else the default loop. */
export const runningLoop = runningAny as () => Loop;

/** Calls `hook(loop)` with each default loop as it is made (and with the current one, if any). */
export const onDefaultLoop = onDefaultAny as (hook: (loop: Loop) => void) => void;

/** The task or loop whose code is running (see internal/ambient.ts), for run()'s refusal to nest. */
export const enclosingTaskOrLoop = enclosingAny as () => AmbientTask | Loop | null;
