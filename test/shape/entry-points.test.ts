import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadRepository } from "./layers.ts";
import { loadClosure } from "./load-closure.ts";

const { files, packages } = loadRepository(resolve(import.meta.dirname, "../.."));

/** Heavy modules a light entry point must not load (they may still be loaded lazily by `import()`). */
const HEAVY = [/^@aws-sdk\//, /^@aws-lambda-powertools\//, /^fauxqs$/, /^typescript$/];

const LIGHT: Record<string, string> = {
  "@strata/tsdb": "packages/tsdb/src/index.ts",
  "@strata/bucket": "packages/bucket/src/index.ts",
  "@strata/verify": "packages/verify/src/index.ts",
  "@strata/compact": "packages/compact/src/index.ts",
  "@strata/downsample": "packages/downsample/src/index.ts",
  "@strata/pipeline": "packages/pipeline/src/index.ts",
  "@strata/pipeline/settings": "packages/pipeline/src/settings.ts",
  "@strata/pipeline/operations": "packages/pipeline/src/operations.ts",
  "@strata/lambda/deploy": "packages/lambda/src/deploy.ts",
};

describe("light entry points", () => {
  for (const [name, entry] of Object.entries(LIGHT)) {
    it(`${name} loads no AWS SDK, Powertools or emulator`, () => {
      const { external } = loadClosure(entry, files, packages);
      const heavy = [...external].filter(([spec]) => HEAVY.some((re) => re.test(spec)));
      expect(heavy.map(([spec, by]) => `${spec} (loaded by ${by})`)).toEqual([]);
    });
  }

  it("@strata/tsdb loads nothing of node but what its format needs (the file adapters are @strata/tsdb/node)", () => {
    const { external } = loadClosure(LIGHT["@strata/tsdb"]!, files, packages);
    expect([...external.keys()].filter((s) => s.startsWith("node:fs"))).toEqual([]);
  });

  it("sees an SDK where there is one: @strata/bucket/s3 loads @aws-sdk/client-s3", () => {
    const { external } = loadClosure("packages/bucket/src/s3.ts", files, packages);
    expect(external.has("@aws-sdk/client-s3")).toBe(true);
  });
});
