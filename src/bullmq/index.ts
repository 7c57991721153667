/**
 * `tsaio/bullmq`: the executors' interface on BullMQ and Redis, to run work on a fleet of machines.
 * `BullMQExecutor` submits jobs to a queue (`submit`, `submitWith`, `map`, `shutdown`, with the same
 * typed `workerModule` handles as the thread and process pools); `tsaio worker <module…> --queue q`
 * (or {@link runWorker}) runs them, each in a thread or process of its own pool.
 *
 * bullmq and ioredis are optional peer dependencies: install them to use this entry point
 * (`npm i bullmq ioredis`); `import "tsaio"` never loads them.
 * @module
 */
export { BullMQExecutor, BullMQFuture, BullMQConnectionError, remoteModule, type BullMQExecutorOptions, type BullMQJobOptions } from "./executor.js";
export { runWorker, type RunWorkerOptions, type WorkerStats } from "./worker.js";
export type { RedisConnection } from "./wire.js";
