/**
 * Live progress while a body runs: a cli-progress bar on a terminal, a plain line every second
 * otherwise (a pipe, a CI log). It is a tsaio task ticking beside the work, cancelled when the work
 * ends however it ends.
 * @module
 */
import cliProgress from "cli-progress";
import { createTask, sleep } from "tsaio";
import type { CrawlStats } from "./crawler.js";

const int = (n: number): string => n.toLocaleString("en-US");

/** The numbers shown, from the live stats. */
function snapshot(stats: CrawlStats) {
  const seconds = stats.wallMs / 1000;
  return {
    done: stats.done,
    discovered: stats.discovered,
    queued: stats.queued,
    inFlight: stats.inFlight,
    errors: stats.failed,
    rate: seconds > 0 ? stats.pages / seconds : 0,
    seconds,
  };
}

/**
 * Runs `body` while showing the crawl's progress on `out`: a bar if `out` is a terminal, else a line
 * every `every` ms. The display is stopped before this returns or throws.
 */
export async function withProgress<T>(stats: CrawlStats, out: NodeJS.WriteStream, body: () => Promise<T>, every = 1_000): Promise<T> {
  let show: () => void;
  let stop: () => void;
  if (out.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: out,
        format: " {bar} {value}/{total} URLs | {queued} queued | {inFlight} in flight | {errors} errors | {rate} pages/s | {seconds} s",
        barsize: 24,
        hideCursor: true,
        fps: 10,
      },
      cliProgress.Presets.shades_classic,
    );
    const payload = (s: ReturnType<typeof snapshot>) => ({ queued: int(s.queued), inFlight: s.inFlight, errors: s.errors, rate: s.rate.toFixed(0), seconds: s.seconds.toFixed(1) });
    bar.start(1, 0, payload(snapshot(stats)));
    show = () => {
      const s = snapshot(stats);
      bar.setTotal(Math.max(1, s.discovered));
      bar.update(s.done, payload(s));
    };
    stop = () => {
      show();
      bar.stop();
    };
  } else {
    show = () => {
      const s = snapshot(stats);
      out.write(`[${s.seconds.toFixed(1).padStart(5)} s] ${int(s.done)}/${int(s.discovered)} URLs done, ${int(s.queued)} queued, ${s.inFlight} in flight, ${s.errors} errors, ${s.rate.toFixed(0)} pages/s\n`);
    };
    stop = () => {};
  }
  const ticker = createTask(
    async () => {
      for (;;) {
        await sleep(out.isTTY ? 100 : every);
        show();
      }
    },
    { name: "progress" },
  );
  try {
    return await body();
  } finally {
    ticker.cancel();
    stop();
  }
}
