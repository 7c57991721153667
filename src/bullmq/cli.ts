/**
 * `tsaio worker <module…> --queue <name> [options]`: the command form of {@link runWorker}. The
 * `tsaio` command (src/cli.ts) only dispatches here, and loads this module (and bullmq) only for
 * `worker`. SIGTERM and SIGINT stop the worker gracefully; a second one exits at once.
 * Internal: not part of the package's public API.
 * @module
 */
import { runWorker, type RunWorkerOptions } from "./worker.js";

/** @internal What `tsaio worker --help` prints. */
export const WORKER_HELP = `usage: tsaio worker <module…> --queue <name> [options]

Runs a BullMQ worker for a BullMQExecutor's queue (tsaio/bullmq): it takes jobs from the queue and
runs them in a thread (or process) pool of its own, until SIGTERM or Ctrl-C (then running jobs may
finish within --grace ms; the rest go back to the queue for another worker).

Modules: the only functions it runs are the exports of the modules named here:
  ./jobs.ts               named "jobs" (the file's base name)
  thumbs=./dist/thumbs.js named "thumbs"
  my-pkg/jobs             a package specifier, named by itself
A job naming any other module or export fails with an error saying what this worker runs.

Options:
  --queue <name>          the queue (required)
  --concurrency <n>       jobs held at once (default: the number of CPUs)
  --connection <url>      Redis (default: $REDIS_URL, else redis://127.0.0.1:6379)
  --prefix <p>            BullMQ's key prefix (default bull)
  --name <name>           this worker's name in "where it ran" (host:pid/name)
  --processes             run jobs in child processes instead of threads
  --workers <n>           size of that pool (default: min(concurrency, CPUs))
  --cancel-grace <ms>     a cancelled job that has not stopped by then is killed (default 3000)
  --grace <ms>            on SIGTERM, how long running jobs may take to finish (default 10000)
  --progress <n>          a progress line every n jobs (default 100; 0: none)
  --lock-duration <ms>    BullMQ's lock duration (default 30000)
  --stalled-interval <ms> how often stalled jobs are looked for (default 30000)
  --max-stalled <n>       times a job may stall before it fails (default 1)`;

function fail(message: string): never {
  process.stderr.write(`tsaio worker: ${message}\n(tsaio worker --help describes every option)\n`);
  process.exit(2);
}

/** @internal Parses `tsaio worker`'s arguments into runWorker's options; throws on bad usage. */
export function parseWorkerArgs(argv: readonly string[]): RunWorkerOptions | "help" {
  const modules: string[] = [];
  const o: Partial<RunWorkerOptions> & { progressEvery: number } = { progressEvery: 100 };
  const num = (flag: string, v: string | undefined): number => {
    if (v === undefined || !/^\d+$/.test(v)) throw new Error(`${flag} takes a whole number, got ${v === undefined ? "nothing" : JSON.stringify(v)}`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case "-h":
      case "--help":
        return "help";
      case "--queue":
        o.queue = next();
        break;
      case "--concurrency":
        o.concurrency = num(a, next());
        break;
      case "--connection":
        o.connection = next();
        break;
      case "--prefix":
        o.prefix = next();
        break;
      case "--name":
        o.name = next();
        break;
      case "--processes":
        o.pool = "process";
        break;
      case "--workers":
        o.maxWorkers = num(a, next());
        break;
      case "--cancel-grace":
        o.cancelGracePeriod = num(a, next());
        break;
      case "--grace":
        o.shutdownGracePeriod = num(a, next());
        break;
      case "--progress":
        o.progressEvery = num(a, next());
        break;
      case "--lock-duration":
        o.lockDuration = num(a, next());
        break;
      case "--stalled-interval":
        o.stalledInterval = num(a, next());
        break;
      case "--max-stalled":
        o.maxStalledCount = num(a, next());
        break;
      default:
        if (a.startsWith("-")) throw new Error(`unknown option ${a}`);
        modules.push(a);
    }
  }
  if (modules.length === 0) throw new Error("name at least one module whose exports this worker runs");
  if (o.queue === undefined) throw new Error("--queue <name> is required");
  return { ...o, modules, queue: o.queue, log: (line) => process.stdout.write(line + "\n") };
}

/** @internal `tsaio worker …`: runs until SIGTERM/SIGINT, then stops gracefully; exit 0, or 2 on bad usage. */
export async function workerCommand(argv: readonly string[]): Promise<void> {
  let options: RunWorkerOptions | "help";
  try {
    options = parseWorkerArgs(argv);
  } catch (e) {
    fail((e as Error).message);
  }
  if (options === "help") {
    console.log(WORKER_HELP);
    return;
  }
  const ac = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (++signals > 1) process.exit(sig === "SIGINT" ? 130 : 143); // asked twice: now
    ac.abort();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  let done;
  try {
    done = runWorker({ ...options, signal: ac.signal });
  } catch (e) {
    fail((e as Error).message);
  }
  try {
    await done;
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  }
}
