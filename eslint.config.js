// Lint rules: typescript-eslint's recommended set, plus the rules that catch lost promises,
// because a dropped promise is exactly the kind of silent loss tsaio exists to prevent.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "build/", "docs/", "node_modules/", "coverage/", ".tsaio-tmp/", ".scratch/", "test/fixtures/lint/", "test/fixtures/consumer/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          // tsaio awaitables (a Future from sleep(), a Task from createTask) are thenables, not Promises:
          // without checkThenables a forgotten `sleep(10);` passes unnoticed.
          checkThenables: true,
          allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "it", "describe", "suite"] }],
        },
      ],
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      "@typescript-eslint/no-this-alias": "off",
      "no-constant-condition": ["error", { checkLoops: false }],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } },
  },
);
