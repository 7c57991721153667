// `npm run bench:all`: the whole suite on Node 20 and on Node 24, then BENCHMARKS.md and the chart.
// A Node major that is not the one running this script is installed from the npm registry (the
// `node` package) into node_modules/.cache/tsaio-bench/node<major>, once, and reused afterwards.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const majors = (process.env.BENCH_NODES ?? "20,24").split(",").map((s) => s.trim());

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { stdio: "inherit", cwd: root, ...options });
  if (r.status !== 0) {
    console.error(`bench:all: ${cmd} ${args.join(" ")} failed (${r.status ?? r.signal})`);
    process.exit(1);
  }
}

/** The node binary of a major: this one, or one installed from the registry. */
function nodeOf(major) {
  if (process.versions.node.split(".")[0] === major) return process.execPath;
  const prefix = join(root, "node_modules", ".cache", "tsaio-bench", `node${major}`);
  const bin = join(prefix, "node_modules", "node", "bin", "node");
  if (!existsSync(bin)) {
    mkdirSync(prefix, { recursive: true });
    console.error(`bench:all: installing node@${major} from the npm registry into ${prefix}`);
    run("npm", ["install", "--prefix", prefix, "--no-save", "--no-audit", "--no-fund", `node@${major}`]);
  }
  return bin;
}

for (const major of majors) {
  const node = nodeOf(major);
  console.error(`\nbench:all: Node ${major} (${node})`);
  run(node, ["--expose-gc", "--import", "tsx", "bench/suite/run.ts"], { env: { ...process.env, BENCH_NO_REPORT: "1", BENCH_COMMAND: "npm run bench:all" } });
}
run(process.execPath, ["--import", "tsx", "bench/tools/report.ts"]);
