/**
 * Old builds for the baseline benchmarks (`bench:baseline`, `bench:executors:baseline`): a git ref's
 * tsaio exported into a temporary tree, run from source through tsx beside the working tree's, so
 * that only tsaio differs between the sides.
 * @module
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Runs git in the repository and returns its trimmed output. */
export function git(args: string[]): string {
  return execFileSync("git", args, { cwd: repoRoot, encoding: "utf8" }).trim();
}

/**
 * Writes `sha`'s `src`, `package.json` (for `"type": "module"`) and `tsconfig.json` (for tsx) into
 * `dir`, with a `node_modules` symlink to this repository's (the peers resolve to the same packages).
 */
export function exportTree(sha: string, dir: string): void {
  mkdirSync(dir, { recursive: true });
  const tar = execFileSync("git", ["archive", "--format=tar", sha, "src", "package.json", "tsconfig.json"], { cwd: repoRoot, maxBuffer: 1 << 30 });
  execFileSync("tar", ["-x", "-C", dir], { input: tar });
  symlinkSync(join(repoRoot, "node_modules"), join(dir, "node_modules"), "dir");
}
