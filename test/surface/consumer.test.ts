/**
 * The package as a user's project sees it: `dist/*.d.ts`, reached through package.json's `exports`
 * ("tsaio", "tsaio/testing"), compiled strict with `skipLibCheck: false` (so a declaration file that
 * names a type `stripInternal` removed is an error here, not in the user's build).
 *
 * The project is test/fixtures/consumer/, copied to a temp dir whose node_modules/tsaio links to the
 * repo. `npm test` builds dist/ first; run `npm run build` before running this file alone.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = fileURLToPath(new URL("../..", import.meta.url));
const dist = join(root, "dist") + sep;
const fixture = fileURLToPath(new URL("../fixtures/consumer/", import.meta.url));

/**
 * `_`-prefixed members that may stay in the public declarations, with the reason. Empty: every
 * internal member is tagged `@internal` and stripped.
 */
const ALLOWED_UNDERSCORE = new Map<string, string>([]);

/** Compiles the fixture's files (all of them: the good and the bad) as the user's project would. */
function compile(): { program: ts.Program; diagnostics: readonly ts.Diagnostic[]; dir: string } {
  assert.ok(existsSync(join(dist, "index.d.ts")), "dist/index.d.ts is missing: run `npm run build` first");
  const dir = mkdtempSync(join(tmpdir(), "tsaio-consumer-"));
  cpSync(fixture, dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", type: "module", private: true }));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(root, join(dir, "node_modules", "tsaio"), "dir");
  symlinkSync(join(root, "node_modules", "@types"), join(dir, "node_modules", "@types"), "dir");
  const configPath = join(dir, "tsconfig.json");
  const config = ts.readConfigFile(configPath, (p) => readFileSync(p, "utf8"));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, dir);
  assert.equal(parsed.options.skipLibCheck, false);
  const program = ts.createProgram([join(dir, "consumer.ts"), join(dir, "bad.ts")], parsed.options);
  return { program, diagnostics: ts.getPreEmitDiagnostics(program), dir };
}

let compiled: ReturnType<typeof compile> | undefined;
const project = (): ReturnType<typeof compile> => (compiled ??= compile());

process.on("exit", () => {
  if (compiled) rmSync(compiled.dir, { recursive: true, force: true });
});

/** `file(line,col): TSxxxx message` */
function show(d: ts.Diagnostic, dir: string): string {
  const where = d.file ? `${relative(dir, d.file.fileName)}(${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1})` : "";
  return `${where}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
}

test("a strict consumer compiles against dist/*.d.ts with skipLibCheck: false", () => {
  const { diagnostics, dir } = project();
  const notBad = diagnostics.filter((d) => d.file === undefined || !d.file.fileName.endsWith("bad.ts"));
  assert.deepEqual(notBad.map((d) => show(d, dir)), []);
});

test("reaching into internals does not compile: _members, new Task()", () => {
  const { program, diagnostics, dir } = project();
  const bad = program.getSourceFiles().find((f) => f.fileName.endsWith("bad.ts"));
  assert.ok(bad);
  const expected: string[] = [];
  bad.text.split("\n").forEach((line, i) => {
    const m = /\/\/ @expect (TS\d+)/.exec(line);
    if (m) expected.push(`bad.ts(${i + 1}): ${m[1]}`);
  });
  assert.ok(expected.length >= 10);
  const got = diagnostics.filter((d) => d.file === bad).map((d) => show(d, dir).replace(/^(\S+: TS\d+).*$/s, "$1"));
  assert.deepEqual([...new Set(got)].sort(), expected.sort(), diagnostics.filter((d) => d.file === bad).map((d) => show(d, dir)).join("\n"));
});

test("no _-prefixed member or export in the declarations a consumer reaches", () => {
  const { program } = project();
  const files = program.getSourceFiles().filter((f) => f.fileName.startsWith(dist));
  assert.ok(files.length > 10, `the consumer reaches ${files.length} declaration files`);
  const found: string[] = [];
  for (const f of files) {
    const at = (n: ts.Node, name: string): void => {
      const key = `${relative(dist, f.fileName)}: ${name}`;
      if (!ALLOWED_UNDERSCORE.has(key)) found.push(`${key} (line ${f.getLineAndCharacterOfPosition(n.getStart(f)).line + 1})`);
    };
    const visit = (n: ts.Node): void => {
      if ((ts.isClassDeclaration(n) || ts.isInterfaceDeclaration(n)) && n.name) {
        for (const m of n.members) {
          if (m.name && (ts.isIdentifier(m.name) || ts.isPrivateIdentifier(m.name)) && m.name.text.startsWith("_")) at(m, `${n.name.text}.${m.name.text}`);
        }
      } else if ((ts.isFunctionDeclaration(n) || ts.isTypeAliasDeclaration(n)) && n.name?.text.startsWith("_")) {
        at(n, n.name.text);
      } else if (ts.isVariableStatement(n)) {
        for (const d of n.declarationList.declarations) if (ts.isIdentifier(d.name) && d.name.text.startsWith("_")) at(d, d.name.text);
      }
      ts.forEachChild(n, visit);
    };
    visit(f);
  }
  assert.deepEqual(found, []);
});
