// The project's lint catches the forgotten await (issue 12): typescript-eslint's no-floating-promises
// with `checkThenables: true`, which the default options lack (tsaio's Futures and Tasks are thenables).
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { ESLint } from "eslint";

test("eslint reports `sleep(10);` and an unawaited createTask(), and accepts `void` and `await`", async () => {
  const eslint = new ESLint({ cwd: fileURLToPath(new URL("..", import.meta.url)), ignore: false });
  const [result] = await eslint.lintFiles([fileURLToPath(new URL("fixtures/lint/floating.ts", import.meta.url))]);
  const floating = result!.messages.filter((m) => m.ruleId === "@typescript-eslint/no-floating-promises");
  assert.deepEqual(
    floating.map((m) => m.line),
    [6, 7],
    JSON.stringify(result!.messages),
  );
});
