/**
 * The thumbnailer on a fleet: `npm run demo:distributed` starts three Redis-backed workers as child
 * processes (`tsaio worker ./thumbs.ts --queue …`), then runs the CPU step on them through a
 * BullMQExecutor — the same `submit`/`gather` as with a ThreadPoolExecutor — prints where each job
 * ran, stops the workers with SIGTERM and exits. Needs Redis at REDIS_URL (default
 * redis://127.0.0.1:6379).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { gather, run, workerModule } from "tsaio";
import { BullMQExecutor } from "tsaio/bullmq";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const redis = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const queue = `thumbs-demo-${process.pid}`;
const WORKERS = 3;
const thumbs = workerModule<typeof import("./thumbs.js")>(new URL("./thumbs.js", import.meta.url));

/** Starts `tsaio worker` (the built CLI, with tsx so that it can load thumbs.ts) and waits until it serves. */
function startWorker(name: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx"), join(root, "dist/cli.js"), "worker", "./thumbs.ts", "--queue", queue, "--connection", redis, "--concurrency", "2", "--name", name, "--progress", "4"], {
    cwd: here,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      for (const line of d.split("\n")) if (line !== "") console.log(`  [${name}] ${line}`);
      out += d;
      if (out.includes("serving queue")) resolve(child);
    });
    child.once("exit", (code) => reject(new Error(`worker ${name} exited (${code}) before serving`)));
  });
}

export default async function main(): Promise<void> {
  console.log(`starting ${WORKERS} workers on queue ${queue} (${redis})`);
  const workers = await Promise.all(Array.from({ length: WORKERS }, (_, i) => startWorker(`w${i + 1}`)));
  const pool = new BullMQExecutor({ queue, connection: redis });
  try {
    const t0 = performance.now();
    const futs = Array.from({ length: 12 }, (_, seed) => pool.submit(thumbs.fns.thumbnail, seed + 1, 1600, 1200, 8));
    const results = await gather(futs);
    for (const [i, r] of results.entries()) {
      console.log(`image ${String(r.seed).padStart(2)} → ${r.width}×${r.height}, mean ${r.mean}, ran on ${futs[i].worker} (${futs[i].attempts} run)`);
    }
    const where = new Map<string, number>();
    for (const f of futs) where.set(f.worker ?? "?", (where.get(f.worker ?? "?") ?? 0) + 1);
    console.log(`${results.length} thumbnails in ${Math.round(performance.now() - t0)} ms on ${where.size} workers: ${[...where].map(([w, n]) => `${w} ×${n}`).join(", ")}`);
  } finally {
    await pool.shutdown();
    // The demo's queue is its own: remove its keys (BullMQ's obliterate).
    const connection = new Redis(redis, { maxRetriesPerRequest: null });
    const q = new Queue(queue, { connection });
    await q.obliterate({ force: true }).catch(() => {});
    await q.close();
    connection.disconnect();
    for (const w of workers) w.kill("SIGTERM");
    await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.once("exit", r)))));
    console.log("workers stopped; bye");
  }
}

await run(main);
