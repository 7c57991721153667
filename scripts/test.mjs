// Runs every test file with Node's built-in runner, TypeScript loaded through tsx.
// Node 20 has no glob support in `node --test`, so the files are listed here.
//
//   node scripts/test.mjs                  every test/**/*.test.ts
//   node scripts/test.mjs queues stages    the files whose path contains one of the words
//   node scripts/test.mjs path/to/file.ts  that file (any name), e.g. a fixture
//
// A passing run prints no alarming noise: a test that runs a worker out of memory on purpose makes
// V8 print its "FATAL ERROR … JavaScript heap out of memory" report and native stack trace on the
// child's stderr, which the runner relays. That report is captured and replaced by one line
// (TSAIO_TEST_VERBOSE=1 prints it as it came); everything else passes through untouched.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith(".test.ts")) out.push(p);
  }
  return out.sort();
}

const args = process.argv.slice(2);
const paths = args.filter((a) => existsSync(a) && statSync(a).isFile());
const words = args.filter((a) => !paths.includes(a));
const files = [...paths, ...(words.length === 0 && paths.length > 0 ? [] : find("test").filter((f) => words.length === 0 || words.some((x) => f.includes(x))))];
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(2);
}

const verbose = process.env.TSAIO_TEST_VERBOSE === "1";
// The spec reporter colours its output only on a terminal: keep that through the pipe below.
const env = process.stdout.isTTY && process.env.FORCE_COLOR === undefined && process.env.NO_COLOR === undefined ? { ...process.env, FORCE_COLOR: "1" } : process.env;
// A test that hangs fails after TSAIO_TEST_TIMEOUT ms (default 4 min) with its name, instead of holding
// CI until its own limit. `npm run fuzz` (FUZZ_RUNS set) runs long properties: no limit there.
const limit = process.env.TSAIO_TEST_TIMEOUT ?? (process.env.FUZZ_RUNS === undefined ? "240000" : "");
const timeoutArgs = limit === "" || limit === "0" ? [] : [`--test-timeout=${Number(limit)}`];
const child = spawn(process.execPath, ["--import", "tsx", "--test", "--test-reporter=spec", ...timeoutArgs, ...files], { stdio: ["inherit", verbose ? "inherit" : "pipe", "inherit"], env });

/** The lines of V8's out-of-memory report, from "<--- Last few GCs --->" to the native stack's last frame. */
const OOM_START = /^<--- Last few GCs --->\s*$/;
const OOM_LINE = /^(\s*|\[\d+:0x[0-9a-f]+\].*|<--- JS stacktrace --->|FATAL ERROR: .*(heap|memory).*|----- Native stack trace -----|\s*\d+: 0x[0-9a-f]+ .*|\s*\d+: 0x[0-9a-f]+\s*|Security context: .*|==== JS stack trace =+|\s*\d+: .*\[.*\].*)\s*$/;

if (!verbose) {
  // A reader that went away (`… | head`): stop, as a program killed by SIGPIPE would.
  process.stdout.on("error", (e) => {
    if (e.code !== "EPIPE") throw e;
    child.kill();
    process.exit(process.exitCode ?? 0);
  });
  let rest = "";
  let blanks = []; // blank lines held back: the report starts with one
  let inReport = false;
  let captured = 0;
  const out = (line) => process.stdout.write(line + "\n");
  const endReport = () => {
    out(`  (captured a V8 out-of-memory report of ${captured} lines from a child process; a test runs one out of memory on purpose — TSAIO_TEST_VERBOSE=1 shows it)`);
    inReport = false;
    captured = 0;
  };
  const onLine = (line) => {
    if (inReport) {
      if (OOM_LINE.test(line)) {
        captured++;
        return;
      }
      endReport();
    }
    if (OOM_START.test(line)) {
      inReport = true;
      captured = blanks.length + 1;
      blanks = [];
      return;
    }
    if (line.trim() === "") {
      blanks.push(line);
      return;
    }
    for (const b of blanks) out(b);
    blanks = [];
    out(line);
  };
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk) => {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop();
    for (const line of lines) onLine(line);
  });
  child.stdout.on("end", () => {
    if (rest !== "") onLine(rest);
    if (inReport) endReport();
    for (const b of blanks) out(b);
  });
}

child.on("exit", (code, signal) => {
  process.exitCode = code ?? (signal === null ? 1 : 128);
});
