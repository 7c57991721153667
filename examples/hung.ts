/**
 * A program that hangs, and how to see why.
 *
 *   npm run build && TSAIO_INTROSPECT=1 npx tsx examples/hung.ts &
 *   npx tsaio pstree $!        # or: node dist/cli.js pstree <pid>
 *
 * prints something like
 *   ├── (T) main — waiting on gather of 2
 *   │   ├── (T) fetch-config — waiting on <Future pending waiters=1>
 *   │   └── (T) heartbeat — waiting on <SleepFuture pending waiters=1 when=1650.3 left=612ms>
 * and the culprit is plain: fetch-config waits on a future that nobody will ever complete.
 */
import { createTask, Future, gather, run, sleep } from "tsaio";

const configReady = new Future<string>(); // the code that should complete it was never written

await run(async () => {
  console.log(`pid ${process.pid}: hanging; try  npx tsaio pstree ${process.pid}`);
  const heartbeat = createTask(
    async () => {
      for (;;) await sleep(1000);
    },
    { name: "heartbeat" },
  );
  const config = createTask(() => configReady, { name: "fetch-config" });
  await gather([config, heartbeat]);
});
