/**
 * A generator pipeline with backpressure: read lines → parse → imap "fetch" → chunk → slow sink.
 *
 *   npm run build && npx tsx examples/generator-pipeline.ts
 *
 * The sink writes a batch every 50 ms; everything upstream runs only as fast as that, so memory stays
 * flat no matter how many lines the source could produce (watch the heap column; run it with
 * `node --expose-gc --import tsx examples/generator-pipeline.ts` to see it after each collection).
 */
import { chunk, imap, pipe, run, sleep } from "tsaio";

async function* readLines(n: number): AsyncGenerator<string> {
  for (let i = 0; i < n; i++) yield `${i},user-${i},${(i * 7919) % 1000}`;
}

function parse(line: string): { id: number; name: string; score: number } {
  const [id, name, score] = line.split(",");
  return { id: Number(id), name: name ?? "", score: Number(score) };
}

await run(async () => {
  const t0 = performance.now();
  let written = 0;
  const records = imap(readLines(100_000), (line) => parse(line), { concurrency: 1 });
  const enriched = imap(
    records,
    async (r) => {
      await sleep(2); // a "fetch" per record
      return { ...r, rank: r.score > 500 ? "high" : "low" };
    },
    { concurrency: 16 },
  );
  for await (const batch of pipe(enriched, chunk<{ id: number; rank: string }>(100))) {
    await sleep(50); // the slow sink
    written += batch.length;
    if (written % 2000 === 0) {
      (globalThis as { gc?: () => void }).gc?.();
      const heapMb = process.memoryUsage().heapUsed / 1e6;
      console.log(`${String(written).padStart(6)} written  heap ${heapMb.toFixed(1)} MB  ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    if (written >= 10_000) break; // enough to see the shape; breaking closes the whole pipeline
  }
  console.log("stopped early: the generator, the fetches in flight and the batcher were all closed");
});
