import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { checkLayers, checkRepository, formatViolation, type PackageInfo, type SourceFile } from "./layers.ts";

const PACKAGES: PackageInfo[] = [
  { dir: "tsdb", exports: [".", "./node"] },
  { dir: "bucket", exports: [".", "./s3"] },
  { dir: "verify", exports: ["."] },
  { dir: "compact", exports: ["."] },
  { dir: "pipeline", exports: ["."] },
  { dir: "lambda", exports: [".", "./deploy"] },
  { dir: "local", exports: ["."] },
  { dir: "cli", exports: ["."] },
  { dir: "testkit", exports: ["."] },
];

function check(files: Record<string, string>) {
  const list: SourceFile[] = Object.entries(files).map(([path, text]) => ({ path, text }));
  return checkLayers(list, PACKAGES, (p) => p in files).map((v) => `${v.file}:${v.line} ${v.rule}`);
}

describe("the layering check", () => {
  it("passes the repository: no upward, sideways or deep import, no cycle", () => {
    const found = checkRepository(resolve(import.meta.dirname, "../..")).map(formatViolation);
    expect(found).toEqual([]);
  });

  it("accepts imports that run down through entry points", () => {
    expect(
      check({
        "packages/pipeline/src/a.ts": `import { x } from "@strata/bucket";\nimport type { Y } from "@strata/tsdb/node";\nimport { z } from "./b.ts";`,
        "packages/pipeline/src/b.ts": `export const z = 1;`,
        "packages/lambda/src/h.ts": `export { handler } from "@strata/pipeline";\nconst m = await import("@strata/bucket/s3");`,
        "packages/compact/test/t.test.ts": `import { verifyBlock } from "@strata/verify";\nimport { rng } from "@strata/testkit";`,
        "infra/bucket.ts": `import { RULE } from "@strata/lambda/deploy";`,
        "test/infra/s.test.ts": `import { deploySettings } from "../../infra/settings.ts";`,
      }),
    ).toEqual([]);
  });

  it("finds an upward import, a sideways one in production code and test support in production", () => {
    expect(
      check({
        "packages/bucket/src/a.ts": `import { main } from "@strata/cli";`,
        "packages/verify/src/b.ts": `import { compactBlocks } from "@strata/compact";`,
        "packages/pipeline/src/c.ts": `\n\nimport { rng } from "@strata/testkit";`,
        "packages/bucket/test/d.test.ts": `import { startLocalRuntime } from "@strata/local";`,
      }),
    ).toEqual([
      "packages/bucket/src/a.ts:1 upward",
      "packages/verify/src/b.ts:1 sideways",
      "packages/pipeline/src/c.ts:3 support",
      "packages/bucket/test/d.test.ts:1 upward",
    ]);
  });

  it("finds deep imports and relative paths that leave their package", () => {
    expect(
      check({
        "packages/pipeline/src/a.ts": `import { S3Store } from "@strata/bucket/s3/s3-store";`,
        "packages/local/src/b.ts": `import { handler } from "../../../functions/worker.ts";`,
        "infra/c.ts": `import { RULE } from "../packages/pipeline/src/notify-rule.ts";`,
        "packages/pipeline/src/d.ts": `import { x } from "@strata/nosuch";`,
      }),
    ).toEqual([
      "packages/pipeline/src/a.ts:1 deep",
      "packages/local/src/b.ts:1 relative-escape",
      "infra/c.ts:1 relative-escape",
      "packages/pipeline/src/d.ts:1 unknown-package",
    ]);
  });

  it("finds a cycle, type-only imports included, and ignores imports inside comments and strings", () => {
    const found = check({
      "packages/cli/src/main.ts": `import { dump } from "./commands/dump.ts";\n// import { x } from "@strata/local/deep";\nconst s = 'from "@strata/bucket/x"';`,
      "packages/cli/src/commands/dump.ts": `import { args } from "../args.ts";`,
      "packages/cli/src/args.ts": `import type { Command } from "./main.ts";`,
    });
    expect(found).toEqual(["packages/cli/src/args.ts:1 cycle"]);
  });
});
