// The echo benchmark's load generator (plain Node, no tsaio), run in its own process for every
// server alike: CLIENTS connections to HOST:PORT, each sending LINES lines of SIZE bytes (the last
// one "\n"), written in 64 KiB batches with backpressure, and reading until every byte came back.
// Prints {"ms": <first connect to last byte>, "bytes": <echoed>} on stdout.
// Usage: node loadgen.mjs HOST PORT CLIENTS LINES SIZE
import { Buffer } from "node:buffer";
import net from "node:net";
import { performance } from "node:perf_hooks";

const [host, port, clients, lines, size] = [process.argv[2], ...process.argv.slice(3).map(Number)];
const line = Buffer.alloc(size, 97);
line[size - 1] = 10;
const perBatch = Math.max(1, Math.floor(65536 / size));
const batch = Buffer.concat(Array.from({ length: perBatch }, () => line));
const expected = lines * size;

function client() {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port, noDelay: true });
    let sent = 0;
    let received = 0;
    const pump = () => {
      while (sent < lines) {
        const n = Math.min(perBatch, lines - sent);
        sent += n;
        if (!sock.write(n === perBatch ? batch : batch.subarray(0, n * size))) return; // wait for 'drain'
      }
    };
    sock.on("connect", pump);
    sock.on("drain", pump);
    sock.on("data", (d) => {
      received += d.length;
      if (received >= expected) sock.end();
    });
    sock.on("error", reject);
    sock.on("close", () => (received === expected ? resolve(received) : reject(new Error(`got ${received} of ${expected} bytes`))));
  });
}

const t0 = performance.now();
const got = await Promise.all(Array.from({ length: clients }, client));
const ms = performance.now() - t0;
process.stdout.write(JSON.stringify({ ms, bytes: got.reduce((a, b) => a + b, 0) }) + "\n");
