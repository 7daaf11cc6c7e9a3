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
      // Coverage is measured on the unit project (npm test runs the system project, timing-
      // sensitive end-to-end runs, without instrumentation). Floors at what it reached when they
      // were set (2026-12-03), so coverage can only rise.
      thresholds: {
        "packages/tsdb/src/**": { statements: 92, branches: 87, functions: 92, lines: 93 },
        "packages/compact/src/**": { statements: 94, branches: 88, functions: 95, lines: 97 },
        "packages/verify/src/**": { statements: 89, branches: 85, functions: 93, lines: 90 },
        "packages/pipeline/src/**": { statements: 93, branches: 87, functions: 93, lines: 96 },
      },
    },
  },
});
