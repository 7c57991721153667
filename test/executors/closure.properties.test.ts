// The source checks of functions sent by source (src/executors/functions.ts) must never report a
// name the function binds itself — a false alarm would refuse a working function at submit — and
// must report a plain read of a name bound nowhere. Two properties over generated functions, and
// a corpus: every function of the repository's own source, checked against TypeScript's parser.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import ts from "typescript";
import { sourceFindings } from "../../src/executors/functions.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

/** Names the generated functions bind (some are also globals' or keywords' look-alikes). */
const NAMES = ["a", "b", "item", "total", "value", "name", "get", "set", "of", "async", "factor", "helper", "map", "data", "x1"];

/**
 * A function whose every read name is bound somewhere in it: parameters, declarations, patterns,
 * catch clauses, inner functions and classes, labels — in strings, templates, regexes, comments,
 * keys and members too. (Scoping is not respected: the lexer ignores scopes, binding anywhere counts.)
 */
function selfContained(): fc.Arbitrary<{ src: string; bound: string[] }> {
  const name = fc.constantFrom(...NAMES);
  const expr = (n: string[]): fc.Arbitrary<string> =>
    fc.oneof(
      fc.constantFrom(...n),
      fc.tuple(fc.constantFrom(...n), fc.constantFrom(...n)).map(([p, q]) => `${p} + ${q}`),
      fc.tuple(fc.constantFrom(...n), fc.constantFrom(...n)).map(([p, q]) => `Math.max(${p}, ${q}) / 2`),
      fc.constantFrom(...n).map((p) => `\`t ${"${"}${p}} / ${"${"}[${p}].map((u) => u * 2)}\``),
      fc.constantFrom(...n).map((p) => `{ ${p}, factor: ${p}, [${p}]: 1, m() { return ${p}; } }`),
      fc.constantFrom(...n).map((p) => `/${p}\\/(x)[/]/g.test(String(${p}))`),
      fc.constantFrom(...n).map((p) => `${p}?.helper?.(${p})`),
      fc.constantFrom(...n).map((p) => `"${p} \\" helper" + '${p}' /* helper ${p} */`),
      fc.constantFrom(...n).map((p) => `typeof undeclaredGlobal === "undefined" ? ${p} : 0`),
    );
  return fc.tuple(fc.uniqueArray(name, { minLength: 1, maxLength: 4 }), fc.array(fc.tuple(fc.nat(9), name, name), { maxLength: 8 })).chain(([params, raw]) => {
    // Declared names made unique (a redeclaration is a SyntaxError), still look-alikes of the others.
    const stmts = raw.map(([k, v, w], i): [number, string, string] => [k, `${v}_${i}`, `${w}_${i}w`]);
    // Names bound as variables: what the expressions may read.
    const bound = [...params, ...stmts.filter(([k]) => k <= 6).map(([, v]) => v), ...stmts.filter(([k]) => k === 3 || k === 6 || k === 8).map(([, , w]) => w)];
    return fc.array(expr(bound), { minLength: stmts.length + 1, maxLength: stmts.length + 1 }).map((es) => {
      const body = stmts.map(([kind, v, w], i) => {
        const e = es[i];
        switch (kind) {
          case 0:
            return `const ${v} = ${e};`;
          case 1:
            return `let [${v}, ...${w}_rest] = [${e}]; void ${w}_rest;`;
          case 2:
            return `for (const { ${v} } of [{ ${v}: ${e} }]) { if (${v}) /re/.test(${v}); }`;
          case 3:
            return `function ${v}(${w}, ...more) { return ${w} ?? more; }`;
          case 4:
            return `try { void (${e}); } catch (${v}) { void ${v}; }`;
          case 5:
            return `class ${v} { ${w} = 1; static #p = 2; get g() { return this.${w}; } }`;
          case 6:
            return `var ${v} = (${w}) => ${w} * 2;`;
          case 7:
            return `${v}: for (;;) { break ${v}; }`;
          case 8:
            return `const { ${v}: ${w} = ${e} } = {};`;
          default:
            return `/* ${v} ${w} */ void (${e});`;
        }
      });
      const src = `(${params.join(", ")}) => {\n${body.join("\n")}\nreturn ${es[es.length - 1]};\n}`;
      return { src, bound };
    });
  });
}

test("no name a function binds is ever reported (generated functions)", () => {
  fc.assert(
    fc.property(selfContained(), ({ src }) => {
      new Function(`return (${src});`); // the generator makes valid JS (this throws otherwise)
      const found = sourceFindings(src);
      assert.ok(found !== null, src);
      assert.deepEqual(found.free, [], src);
    }),
    { numRuns: RUNS },
  );
});

test("a plain read of a name bound nowhere is reported (generated functions)", () => {
  // Plain reads. (Not found, by design: a read right after `(` or `,` outside a call's parentheses,
  // after `?`/`:`, under `typeof`, in an array or object literal: those tokens may start a binding.)
  const read = fc.constantFrom("return zzFree + 1;", "const q1 = zzFree; void q1;", "void Math.max(1, zzFree);", "void `${zzFree}`;", "if (!zzFree) void 0;", "void [1].map((k) => k * zzFree);", "zzFree.call();", "void (1 + zzFree);");
  fc.assert(
    fc.property(selfContained(), read, fc.nat(), ({ src }, line, at) => {
      const lines = src.split("\n");
      const i = 1 + (at % (lines.length - 1)); // after the head, before the closing brace
      lines.splice(i, 0, line);
      const s = lines.join("\n");
      new Function(`return (${s});`);
      const found = sourceFindings(s);
      assert.ok(found !== null, s);
      assert.deepEqual(found.free, ["zzFree"], s);
    }),
    { numRuns: RUNS },
  );
});

test("corpus: every function of tsaio's own source — no reported name is bound in it or not read", () => {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  // By default the executors' and threading sources; FUZZ_RUNS set (npm run fuzz): all of src/.
  const dirs = process.env.FUZZ_RUNS === undefined ? ["src/executors", "src/threading"] : ["src"];
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const f of readdirSync(join(root, d))) {
      const p = join(d, f);
      if (statSync(join(root, p)).isDirectory()) walk(p);
      else if (p.endsWith(".ts") && !p.endsWith(".d.ts")) files.push(p);
    }
  };
  dirs.forEach(walk);
  let functions = 0;
  let reported = 0;
  for (const f of files) {
    const js = ts.transpileModule(readFileSync(join(root, f), "utf8"), { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText;
    const sf = ts.createSourceFile(f, js, ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isArrowFunction(node) || ts.isFunctionExpression(node) || ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) {
        functions++;
        const found = sourceFindings(node.getText());
        if (found !== null && found.free.length > 0) {
          const declared = new Set<string>();
          const reads = new Set<string>();
          const scan = (m: ts.Node): void => {
            const decl = ts.isVariableDeclaration(m) || ts.isParameter(m) || ts.isBindingElement(m) || ts.isFunctionDeclaration(m) || ts.isFunctionExpression(m) || ts.isClassDeclaration(m) || ts.isClassExpression(m);
            if (decl && m.name !== undefined) {
              const add = (b: ts.Node): void => (ts.isIdentifier(b) ? void declared.add(b.text) : ts.forEachChild(b, add));
              add(m.name);
            }
            if (ts.isIdentifier(m)) {
              const p = m.parent;
              const member = (ts.isPropertyAccessExpression(p) || ts.isPropertyAssignment(p) || ts.isMethodDeclaration(p) || ts.isPropertyDeclaration(p) || ts.isGetAccessor(p) || ts.isSetAccessor(p)) && p.name === m;
              if (!member && !ts.isLabeledStatement(p) && !ts.isBreakOrContinueStatement(p)) reads.add(m.text);
            }
            ts.forEachChild(m, scan);
          };
          scan(node);
          for (const name of found.free) {
            reported++;
            assert.ok(!declared.has(name) && reads.has(name), `${f}: "${name}" reported free in ${node.getText().slice(0, 200)}`);
          }
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  assert.ok(functions > 300 && reported > 100, `${functions} functions, ${reported} names reported: the corpus was not read`);
});
