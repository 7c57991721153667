/**
 * Echo servers (issue 15, "Speed"): 100 concurrent clients × 10,000 lines of 64 bytes over loopback
 * (64 MB each way), against three servers that echo line by line:
 *
 * - **tsaio**: `startServer` + `readline()` / `write()` / `await drain()` per line, in a task per
 *   connection — asyncio's echo server, written with tsaio;
 * - **node:net**: a plain `net.createServer` with the same framing (split the bytes into lines,
 *   `socket.write(line)` per line, pause on backpressure until `'drain'`) — the issue's baseline;
 * - **node:net corked**: the same, with the lines of each chunk corked into one `writev` (what
 *   tsaio's writer does for the writes of one tick: the best hand-written node:net server here);
 * - **CPython**: asyncio's streams (bench/streams/echo_server.py, CPython 3.13 if found, else
 *   python3 ≥ 3.11, or BENCH_PYTHON).
 *
 * The same load generator (bench/streams/loadgen.mjs, plain Node) runs in a separate process for all
 * of them and times from the first connect to the last byte echoed. Sides are interleaved in this one
 * process (`lib.interleave`, the order rotating every round): 1 warm-up round, then STREAMS_RUNS
 * (default 5) counted rounds. Reported: min/median/max of the time, the median throughput, and the
 * ratios of the medians — goals: tsaio ≥ 0.8× node:net's throughput, ≥ 3× CPython's (and, for
 * information, tsaio against the corked node:net server).
 *
 * Run: `npm run bench:streams` (env STREAMS_RUNS, STREAMS_CLIENTS, STREAMS_LINES, BENCH_PYTHON).
 * Writes `bench/results/streams-<node-version>.json`.
 * @module
 */
import { execFile, spawn, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import net, { type AddressInfo } from "node:net";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { run, startServer } from "../src/index.js";
import { fmt, interleave, machine, median, stats, table, type Sample } from "./tools/lib.js";

const here = dirname(fileURLToPath(import.meta.url));
const RUNS = Math.max(3, Number(process.env.STREAMS_RUNS ?? 5) | 0);
const CLIENTS = Number(process.env.STREAMS_CLIENTS ?? 100);
const LINES = Number(process.env.STREAMS_LINES ?? 10_000);
const SIZE = 64;
const execFileP = promisify(execFile);

/** CPython for the asyncio side: BENCH_PYTHON, else 3.13+ (PATH, pyenv), else python3 >= 3.11. */
function findPython(): string | null {
  const ok = (exe: string, min: number): boolean => {
    const r = spawnSync(exe, ["-c", `import sys, platform; print(sys.version_info >= (3, ${min}) and platform.python_implementation() == 'CPython')`], { encoding: "utf8" });
    return r.status === 0 && r.stdout.trim() === "True";
  };
  if (process.env.BENCH_PYTHON) return process.env.BENCH_PYTHON;
  const candidates = ["python3.14", "python3.13"];
  const pyenv = spawnSync("pyenv", ["versions", "--bare"], { encoding: "utf8" });
  if (pyenv.status === 0) {
    for (const v of pyenv.stdout.split(/\s+/)) {
      if (!/^3\.(1[3-9]|[2-9]\d)/.test(v)) continue;
      const prefix = spawnSync("pyenv", ["prefix", v], { encoding: "utf8" }).stdout.trim();
      if (prefix) candidates.push(join(prefix, "bin", "python3"));
    }
  }
  return candidates.find((c) => ok(c, 13)) ?? (ok("python3", 11) ? "python3" : null);
}

/** One run of the load generator against `port`. */
async function load(port: number): Promise<Sample> {
  const { stdout } = await execFileP(process.execPath, [join(here, "streams", "loadgen.mjs"), "127.0.0.1", String(port), String(CLIENTS), String(LINES), String(SIZE)], {
    maxBuffer: 1 << 20,
  });
  const r = JSON.parse(stdout) as { ms: number; bytes: number };
  if (r.bytes !== CLIENTS * LINES * SIZE) throw new Error(`echoed ${r.bytes} bytes, expected ${CLIENTS * LINES * SIZE}`);
  return { ms: r.ms, MBps: r.bytes / 1e6 / (r.ms / 1000) };
}

/**
 * The node:net echo server with the same framing: one write per line, backpressure through 'drain'.
 * `corked`: the lines of each chunk are corked and leave in one writev.
 */
function nodeNetServer(corked: boolean): Promise<net.Server> {
  const server = net.createServer({ noDelay: true }, (sock) => {
    let carry: Buffer | null = null;
    sock.on("data", (chunk: Buffer) => {
      let buf = carry === null ? chunk : Buffer.concat([carry, chunk]);
      let start = 0;
      let ok = true;
      if (corked) {
        sock.cork();
        process.nextTick(() => sock.uncork());
      }
      for (let i = buf.indexOf(10, start); i !== -1; i = buf.indexOf(10, start)) {
        ok = sock.write(buf.subarray(start, i + 1)) && ok;
        start = i + 1;
      }
      buf = buf.subarray(start);
      carry = buf.length > 0 ? Buffer.from(buf) : null;
      if (!ok) {
        sock.pause();
        sock.once("drain", () => sock.resume());
      }
    });
    sock.on("end", () => sock.end());
    sock.on("error", () => sock.destroy());
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

async function main(): Promise<void> {
  const python = findPython();
  if (python === null) process.stderr.write("CPython >= 3.11 not found (BENCH_PYTHON, PATH, pyenv): its row is skipped\n");
  const nodeServer = await nodeNetServer(false);
  const corkedServer = await nodeNetServer(true);
  const tsaioServer = await startServer(
    async (reader, writer) => {
      for (;;) {
        const line = await reader.readline();
        if (line.length === 0) break;
        writer.write(line);
        await writer.drain();
      }
      writer.close();
    },
    "127.0.0.1",
    0,
  );
  let py: { child: ReturnType<typeof spawn>; port: number; version: string } | null = null;
  if (python !== null) {
    const child = spawn(python, [join(here, "streams", "echo_server.py")], { stdio: ["pipe", "pipe", "inherit"] });
    const port = await new Promise<number>((resolve, reject) => {
      let said = "";
      const onData = (d: Buffer): void => {
        said += d.toString();
        if (!said.includes("\n")) return;
        child.stdout!.removeListener("data", onData);
        const m = /PORT (\d+)/.exec(said);
        if (m === null) reject(new Error(`echo_server.py said ${JSON.stringify(said)}`));
        else resolve(Number(m[1]));
      };
      child.stdout!.on("data", onData);
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`echo_server.py exited with ${code} before telling its port`)));
    });
    const version = spawnSync(python, ["-c", "import platform; print(platform.python_version())"], { encoding: "utf8" }).stdout.trim();
    py = { child, port, version };
  }
  const sides = [
    { name: "node:net", run: () => load((nodeServer.address() as AddressInfo).port) },
    { name: "node:net corked", run: () => load((corkedServer.address() as AddressInfo).port) },
    { name: "tsaio", run: () => load((tsaioServer.sockets[0]!.address() as AddressInfo).port) },
    ...(py === null ? [] : [{ name: "CPython asyncio", run: () => load(py.port), gc: false }]),
  ];
  process.stderr.write(`echo: ${CLIENTS} clients × ${LINES} lines of ${SIZE} bytes (${((CLIENTS * LINES * SIZE) / 1e6).toFixed(0)} MB each way), ${RUNS} runs\n`);
  const res = await interleave("echo", sides, RUNS, 1, { rotate: true });
  nodeServer.close();
  corkedServer.close();
  await tsaioServer[Symbol.asyncDispose]();
  if (py !== null) py.child.stdin!.end();

  const med = (name: string, k: string): number => median(res[name]!.map((s) => s[k]!));
  const rows = [["server", "min ms", "median ms", "max ms", "median MB/s"]];
  for (const s of sides) {
    const st = stats(res[s.name]!.map((x) => x.ms!));
    rows.push([s.name, fmt(st.min), fmt(st.median), fmt(st.max), fmt(med(s.name, "MBps"))]);
  }
  const vsNode = med("node:net", "ms") / med("tsaio", "ms");
  const vsCorked = med("node:net corked", "ms") / med("tsaio", "ms");
  const vsPython = py === null ? null : med("CPython asyncio", "ms") / med("tsaio", "ms");
  console.log(table(rows));
  console.log(
    `tsaio throughput: ${vsNode.toFixed(2)}× node:net's (goal ≥ 0.8)${vsPython === null ? "" : `, ${vsPython.toFixed(2)}× CPython ${py!.version}'s (goal ≥ 3)`}` +
      `, ${vsCorked.toFixed(2)}× the corked node:net server's`,
  );
  const file = join(here, "results", `streams-${process.version}.json`);
  mkdirSync(dirname(file), { recursive: true });
  const result = {
    bench: "streams",
    date: new Date().toISOString(),
    machine: machine(),
    load: loadavg(),
    workload: { clients: CLIENTS, lines: LINES, size: SIZE, runs: RUNS },
    python: py === null ? null : `CPython ${py.version}`,
    samples: res,
    ratios: { tsaioVsNodeNet: vsNode, tsaioVsCPython: vsPython, tsaioVsNodeNetCorked: vsCorked },
    goals: { tsaioVsNodeNet: { min: 0.8, met: vsNode >= 0.8 }, tsaioVsCPython: vsPython === null ? null : { min: 3, met: vsPython >= 3 } },
  };
  writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
  console.log(`written: ${file}`);
}

await run(main, { handleSigint: false });
