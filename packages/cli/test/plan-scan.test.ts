// `strata plan`'s walk of a local bucket reads keys by the bucket's grammar (@strata/bucket/keys).
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newUlid, serializeMeta, type BlockMeta } from "@strata/tsdb";
import { scanBucket } from "../src/commands/plan.ts";

const U = (n: number): string => newUlid(n, new Uint8Array(10));
let root: string;

async function block(dir: string, id: string): Promise<void> {
  const meta: BlockMeta = {
    ulid: id,
    minTime: 0,
    maxTime: 7_200_000,
    stats: { numSeries: 1n },
    compaction: { level: 1, sources: [id] },
    version: 1,
    thanos: { labels: {}, downsample: { resolution: 0 } },
  };
  await mkdir(join(dir, id), { recursive: true });
  await writeFile(join(dir, id, "meta.json"), serializeMeta(meta, { style: "thanos" }));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "strata-plan-scan-"));
  await block(root, U(1)); // a root block
  await block(join(root, "team-a"), U(2));
  await block(join(root, U(3)), U(4)); // a ULID-shaped "tenant": not a root block
  await block(join(root, "__x"), U(5));
  await block(join(root, "markers"), U(6));
  await block(join(root, "a\u202Eb"), U(7));
  await mkdir(join(root, "leases"), { recursive: true });
  await writeFile(join(root, "leases", "x.json"), "{}");
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("scanBucket", () => {
  it("reads root blocks and valid tenants only; a ULID folder of ULID folders is not a root block", async () => {
    const scan = await scanBucket(root);
    expect(scan.blocks.map((b) => [b.tenant, b.meta.ulid])).toEqual([
      ["", U(1)],
      ["team-a", U(2)],
    ]);
    expect(scan.skipped).toEqual([]);
    expect(scan.warnings).toEqual([
      `${join(root, U(3))}: not read: top-level folder "${U(3)}" holds block folders, so it is a tenant, not a root block; and a tenant must not be ULID-shaped`,
      `${join(root, "__x")}: not read: "__x" is not a valid tenant: tenant must not start with '__' (reserved)`,
      `${join(root, "a\u202Eb")}: not read: "a\\u202eb" is not a valid tenant: tenant contains a bidirectional formatting character (U+202E) at character 1`,
    ]);
  });
});
