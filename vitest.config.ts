import { defineConfig } from "vitest/config";

// Two projects: `unit` (every package's own tests: no external tool, no emulator process,
// `npm run test:unit`, under a minute) and `system` (interop against the real promtool and
// prometheus, the pipeline end to end, the repository's shape). `npm test` runs both.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 300_000,
    // Two cores: interop tests spawn promtool/prometheus, keep the pool small.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: "unit", include: ["packages/*/test/**/*.test.ts"] } },
      { extends: true, test: { name: "system", include: ["test/**/*.test.ts"] } },
    ],
    coverage: {
      provider: "v8",
      // Production code only: test support (testkit) and the bench harness are not measured.
      include: ["packages/*/src/**/*.ts"],
      exclude: ["packages/testkit/**", "packages/bench/**"],
      reporter: ["text-summary", ["json-summary", { file: "coverage-summary.json" }]],
      reportsDirectory: "coverage",
      // Floors at what `npm test` reached when they were set (2026-12-03), so coverage can only
      // rise; the CLI, the Lambda shell and the local runtime run mostly in child processes,
      // which v8 coverage does not see, so they have none.
      thresholds: {
        "packages/tsdb/src/**": { statements: 92, branches: 87, functions: 92, lines: 94 },
        "packages/compact/src/**": { statements: 94, branches: 88, functions: 95, lines: 97 },
        "packages/verify/src/**": { statements: 91, branches: 86, functions: 94, lines: 93 },
        "packages/pipeline/src/**": { statements: 92, branches: 86, functions: 94, lines: 95 },
      },
    },
  },
});
