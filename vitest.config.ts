import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 300_000,
    // Two cores: interop tests spawn promtool/prometheus, keep the pool small.
    maxWorkers: 2,
  },
});
