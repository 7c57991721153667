/**
 * tsaio: Python's asyncio for TypeScript on Node.js.
 * @module
 */
export {
  CancelledError,
  TimeoutError,
  InvalidStateError,
  QueueEmpty,
  QueueFull,
  QueueShutDown,
  BrokenBarrierError,
  BrokenExecutorError,
  DeadlockError,
  KeyboardInterrupt,
  ExceptionGroup,
} from "./errors.js";
export { Loop, Handle, TimerHandle, type ExecutorLike, type LoopOptions, type ExceptionContext, type ExceptionHandler } from "./loop.js";
export { Future, isFuture } from "./futures.js";
export { Task, createTask, currentTask, allTasks, sleep, cancellable, type TaskOptions, type SleepOptions } from "./tasks.js";
export {
  gather,
  wait,
  asCompleted,
  waitFor,
  shield,
  ensureFuture,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  ALL_COMPLETED,
  type Awaitable,
  type ResultOf,
  type GatherOptions,
  type WaitOptions,
  type WaitResult,
  type ReturnWhen,
  type AsCompletedOptions,
} from "./combinators.js";
export { timeout, timeoutAt, Timeout } from "./timeouts.js";
export { taskGroup, TaskGroup } from "./taskgroups.js";
export { run, Runner, getRunningLoop, type RunOptions } from "./runners.js";
export { taskTree, formatTaskTree, type TaskNode, type TreeOptions } from "./debug/tree.js";
export { enableIntrospection, disableIntrospection } from "./debug/introspect.js";
export { map, imap, forEach, type Items, type MapOptions, type ImapOptions } from "./iteration.js";
export { buffer, chunk, throttle, merge, pipe, type Stage, type ChunkOptions } from "./stages.js";
export * from "./locks.js";
export * from "./queues.js";
export * from "./limiters.js";
export * from "./retry.js";
export * from "./executors/index.js";
// Streams, subprocesses (issue 15)
export {
  openConnection,
  openUnixConnection,
  startServer,
  startUnixServer,
  Server,
  StreamReader,
  StreamWriter,
  IncompleteReadError,
  LimitOverrunError,
  type ConnectOptions,
  type OpenConnectionOptions,
  type ConnectionHandler,
  type ServeOptions,
  type StartServerOptions,
  type ReadOptions,
  type StreamReaderOptions,
  type Separator,
  type StartTlsOptions,
  type SslOption,
} from "./streams/index.js";
export {
  createSubprocessExec,
  createSubprocessShell,
  Subprocess,
  PIPE,
  STDOUT,
  DEVNULL,
  type StdioSpec,
  type SubprocessOptions,
  type WaitOptions as SubprocessWaitOptions,
} from "./subprocess.js";
