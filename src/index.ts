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
export { Lock, Event, Condition, Semaphore, BoundedSemaphore, Barrier, Held, type Acquirable, type SignalOptions } from "./locks.js";
export { Queue, PriorityQueue, LifoQueue, defaultCompare, type Compare } from "./queues.js";
export {
  RWLock,
  RWLockSide,
  CapacityLimiter,
  Borrow,
  RateLimiter,
  type BorrowOptions,
  type CapacityLimiterStatistics,
  type RateLimiterOptions,
} from "./limiters.js";
export { retry, type RetryInfo, type RetryOptions } from "./retry.js";
export {
  Executor,
  ThreadPoolExecutor,
  ProcessPoolExecutor,
  ExecutorFuture,
  workerModule,
  transfer,
  toThread,
  type ExecutorOptions,
  type JobOptions,
  type ExecutorMapOptions,
  type ShutdownOptions,
  type CancelOptions,
  type WorkerModule,
  type WorkerFunction,
  type WorkerFunctions,
  type FunctionKeys,
} from "./executors/index.js";
// Streams (asyncio's streams: TCP, unix sockets and TLS; every wait is a cancellation point) and
// subprocesses. Listed from the files that define them: this is the one list of public names.
export { IncompleteReadError, LimitOverrunError } from "./streams/errors.js";
export { StreamReader, type ReadOptions, type StreamReaderOptions, type Separator } from "./streams/reader.js";
export { StreamWriter, type StartTlsOptions } from "./streams/writer.js";
export {
  openConnection,
  openUnixConnection,
  startServer,
  startUnixServer,
  Server,
  type ConnectOptions,
  type OpenConnectionOptions,
  type ConnectionHandler,
  type ServeOptions,
  type StartServerOptions,
} from "./streams/net.js";
export type { SslOption } from "./streams/tls.js";
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
