import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "strata-ds-bundle-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("downsampling workers in a bundle (as SST deploys the Lambda)", () => {
  it("starts its worker from the bundle and writes the same block as one thread", async () => {
    const outfile = join(dir, "entry.mjs");
    await build({
      entryPoints: [fileURLToPath(new URL("./fixtures/bundle-entry.ts", import.meta.url))],
      outfile,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node24",
      logLevel: "error",
    });
    const out = execFileSync(process.execPath, [outfile], { encoding: "utf8", timeout: 60_000 });
    // served > 0: the worker started from the bundle and took batches (no silent fallback).
    const result = JSON.parse(out.trim()) as { same: boolean; served: number; files: number; bytes: number };
    expect(result.served).toBeGreaterThan(0);
    expect(result.files).toBeGreaterThanOrEqual(3);
    expect(result.bytes).toBeGreaterThan(10_000);
    expect(result.same).toBe(true);
  });
});
