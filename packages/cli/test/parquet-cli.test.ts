// `strata convert` and `strata parquet inspect` run as a user would, on a small block.
import { readdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeBenchBlock } from "@strata/testkit";
import { runStrata } from "@strata/testkit/cli";
import { TempDirs } from "@strata/testkit/tmp";

describe("strata convert / strata parquet inspect", () => {
  const tmp = new TempDirs();
  let block: string;
  let out: string;

  beforeAll(async () => {
    block = await makeBenchBlock(await tmp.make("pq-cli"), 30, 240); // 60 series;
    out = join(await tmp.make("pq-cli-out"), "parquet");
  });
  afterAll(() => tmp.cleanup());

  it("convert writes the shard's two files and the mark, and reports them", async () => {
    const r = await runStrata(["convert", block, "--out", out, "--row-group-size", "10"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect((await readdir(out)).sort()).toEqual([
      "0.chunks.parquet",
      "0.labels.parquet",
      "parquet-converter-mark.json",
    ]);
    expect(r.stdout).toMatch(/60 series, 1 shard\(s\)/);
    expect(r.stdout).toMatch(/0\.labels\.parquet {2}60 rows {2}6 row group\(s\)/);
  });

  it("parquet inspect prints schema, row groups, sizes, time range and the mark; --json the same as data", async () => {
    const r = await runStrata(["parquet", "inspect", out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("0.labels.parquet:");
    expect(r.stdout).toMatch(/l___name__ {2}BYTE_ARRAY OPTIONAL STRING/);
    expect(r.stdout).toMatch(/row group 5: 10 rows/);
    expect(r.stdout).toMatch(/time range \d{4}-\d\d-\d\dT.* – .*, data columns of 8h/);
    expect(r.stdout).toContain('parquet-converter-mark.json: {"version":2,"shards":1}');
    const j = await runStrata(["parquet", "inspect", out, "--json"]);
    const parsed = JSON.parse(j.stdout) as { files: Record<string, { rows: number }>; mark: unknown };
    expect(parsed.files["0.chunks.parquet"]!.rows).toBe(60);
    expect(parsed.mark).toEqual({ version: 2, shards: 1 });
  });

  it("convert --out <block URL> writes into the block's folder in a file:// bucket", async () => {
    const bucket = await tmp.make("pq-cli-bucket");
    const url = `${pathToFileURL(bucket).href}/team-a/${basename(block)}`;
    const r = await runStrata(["convert", block, "--out", url]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect((await readdir(join(bucket, "team-a", basename(block)))).sort()).toEqual([
      "0.chunks.parquet",
      "0.labels.parquet",
      "parquet-converter-mark.json",
    ]);
    expect((await runStrata(["convert", block, "--out", `${pathToFileURL(bucket).href}/team-a/not-a-ulid`])).code).toBe(
      2,
    );
  });

  it("usage errors exit 2", async () => {
    expect((await runStrata(["convert", block])).code).toBe(2);
    expect((await runStrata(["convert", block, "--out", out, "--row-group-size", "0"])).code).toBe(2);
    expect((await runStrata(["parquet", "show", out])).code).toBe(2);
    expect((await runStrata(["parquet", "inspect", block])).code).toBe(2);
  });
});
