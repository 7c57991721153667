/**
 * The pure half of the `@example` checker (test/doc-examples.test.ts describes the convention):
 * finding the fenced code after each `@example` tag in `src/**\/*.ts`, reading the output
 * expectations written as trailing comments on `console.log` lines, rewriting those calls so the
 * child process records what each line printed, and comparing the records with the expectations.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";

/** One `@example` block. */
export interface DocExample {
  /** The source file, relative to the repo root, with `/` separators (`src/locks.ts`). */
  readonly file: string;
  /** The 1-based line of the `@example` tag. */
  readonly line: number;
  /** The code lines, comment prefix (` * `) removed. */
  readonly code: readonly string[];
  /** The 1-based source line of each code line. */
  readonly lines: readonly number[];
}

/** A `console.log` line with a trailing comment. */
export interface Expectation {
  /** Index of the line in {@link DocExample.code}. */
  readonly index: number;
  /** What the line must print (its calls' outputs joined by one space), or null for `// e.g. …` (not checked). */
  readonly expected: string | null;
}

/** The marker that opts an example out of running: its first line is `// not run: <reason>`. */
export const NOT_RUN = /^\s*\/\/\s*not run:\s*(.*\S)\s*$/;
/**
 * The marker of an example that needs a server: its first line is `// needs: redis` (the servers the
 * test knows how to probe). It runs when the server answers; otherwise it is skipped with one loud line,
 * except under `CI=true`, where that fails.
 */
export const NEEDS = /^\s*\/\/\s*needs:\s*(redis)\s*$/;
/** The marker of an unchecked expectation: the comment starts with `e.g.` (output that varies). */
export const VARIES = /^e\.g\.(\s|$)/;

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(p);
  }
  return out.sort();
}

/** Extracts the `@example` blocks of one file's text. */
export function extractExamples(file: string, text: string): DocExample[] {
  const src = text.split("\n");
  const out: DocExample[] = [];
  for (let i = 0; i < src.length; i++) {
    if (!/^\s*\*\s*@example\s*$/.test(src[i])) continue;
    let j = i + 1;
    if (!/^\s*\*\s*```(ts|typescript)\s*$/.test(src[j] ?? "")) throw new Error(`${file}:${i + 1}: @example is not followed by a \`\`\`ts fence`);
    const prefix = /^\s*\* ?/;
    const code: string[] = [];
    const lines: number[] = [];
    for (j++; j < src.length && !/^\s*\*\s*```\s*$/.test(src[j]); j++) {
      if (src[j].includes("*/")) throw new Error(`${file}:${i + 1}: the @example's code fence is not closed before its comment ends`);
      code.push(src[j].replace(prefix, ""));
      lines.push(j + 1);
    }
    out.push({ file, line: i + 1, code, lines });
    i = j;
  }
  return out;
}

/** Every `@example` block in the `.ts` files under `root/src`. */
export function findExamples(root: string): DocExample[] {
  return tsFiles(join(root, "src")).flatMap((p) => extractExamples(relative(root, p).split(sep).join("/"), readFileSync(p, "utf8")));
}

/** The reason of a `// not run: <reason>` first line, or null when the example runs. */
export function notRunReason(ex: DocExample): string | null {
  return NOT_RUN.exec(ex.code[0] ?? "")?.[1] ?? null;
}

/** The server a `// needs: <server>` first line names, or null. */
export function needsServer(ex: DocExample): "redis" | null {
  return (NEEDS.exec(ex.code[0] ?? "")?.[1] as "redis" | undefined) ?? null;
}

/**
 * Splits a line of code at its `//` comment, skipping `//` inside string and template literals
 * (a template's `${…}` is treated as part of the literal: enough for one-line examples).
 */
export function splitComment(line: string): { code: string; comment: string | null; at: number } {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote !== null) {
      if (c === "\\") i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'" || c === "`") quote = c;
    else if (c === "/" && line[i + 1] === "/") return { code: line.slice(0, i), comment: line.slice(i + 2).trim(), at: i };
  }
  return { code: line, comment: null, at: line.length };
}

const LOG = /\bconsole\.log\(/g;

/** The checked lines of an example: those whose code calls `console.log(` and that end in a comment. */
export function expectations(ex: DocExample): Expectation[] {
  const out: Expectation[] = [];
  ex.code.forEach((line, index) => {
    const { code, comment } = splitComment(line);
    if (comment === null || comment === "" || !LOG.test(code)) return;
    LOG.lastIndex = 0;
    out.push({ index, expected: VARIES.test(comment) ? null : comment });
  });
  LOG.lastIndex = 0;
  return out;
}

/** Resolves the package's own specifiers to the compiled tree's files (see run.ts). */
export type Specifiers = Readonly<Record<string, string>>;

/**
 * The example as a module: `"tsaio"`-style specifiers rewritten, and on each checked line
 * `console.log(` replaced by `__docLog(<tag>, <line index>, ` (defined by the child's preload), so
 * the child records what that line printed. Lines stay one for one with the example's code.
 */
export function instrument(ex: DocExample, specifiers: Specifiers, tag: string): string {
  const checked = new Set(expectations(ex).map((e) => e.index));
  return ex.code
    .map((line, i) => {
      const { code, at } = splitComment(line);
      let out = code.replace(/(\bfrom\s*|\bimport\s*\(?\s*)(["'])([^"']+)\2/g, (m, kw: string, q: string, spec: string) => (spec in specifiers ? `${kw}${q}${specifiers[spec]}${q}` : m));
      if (checked.has(i)) out = out.replace(LOG, `__docLog(${JSON.stringify(tag)}, ${i}, `);
      return out + line.slice(at);
    })
    .join("\n");
}

/** What each checked line printed: line index → one string per call, formatted as console.log does. */
export type Records = ReadonlyMap<number, readonly string[]>;

/** The line index the child records when an example's module has finished (its top-level await included). */
export const FINISHED = -1;

/** Parses a child's record file, one JSON `[tag, index, text]` per call: tag → that example's records. */
export function parseRecords(text: string): Map<string, Map<number, string[]>> {
  const out = new Map<string, Map<number, string[]>>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const [tag, index, printed] = JSON.parse(line) as [string, number, string];
    const records = out.get(tag) ?? new Map<number, string[]>();
    out.set(tag, records);
    const list = records.get(index) ?? [];
    list.push(printed);
    records.set(index, list);
  }
  return out;
}

/** The mismatches between what the checked lines printed and their comments, as failure messages. */
export function compare(ex: DocExample, records: Records): string[] {
  const failures: string[] = [];
  for (const e of expectations(ex)) {
    if (e.expected === null) continue;
    const where = `${ex.file}:${ex.lines[e.index]}`;
    const calls = records.get(e.index);
    const got = calls === undefined ? null : calls.join(" ");
    if (got === e.expected) continue;
    failures.push(
      `${where} (in the @example of line ${ex.line}): ${ex.code[e.index].trim()}\n` +
        `    expected: ${e.expected}\n` +
        `    printed:  ${got === null ? "(nothing: the line never ran)" : /[\n\r\t]/.test(got) ? `${JSON.stringify(got)} (as JSON: it has line breaks or tabs)` : got}` +
        (calls !== undefined && calls.length > 1 ? ` (${calls.length} calls, joined by a space)` : ""),
    );
  }
  return failures;
}
