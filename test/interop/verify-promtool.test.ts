// The verifier against blocks promtool wrote: healthy ones pass (API and CLI), byte edits
// of them are reported with the exact code, file and offset, and `--repair` writes a
// block promtool reads back.
import { readFile, writeFile, truncate } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DirBlockSource } from "@strata/tsdb/node";
import { Code, verifyBlock, type VerifyReport } from "@strata/verify";
import {
  assertPromtool,
  makePromtoolFixture,
  promtoolAnalyze,
  promtoolDump,
  type PromtoolFixture,
} from "@strata/testkit/promtool";
import { copyDir, TempDirs } from "@strata/testkit/tmp";
import { lastLine, runStrata } from "@strata/testkit/cli";

const tmp = new TempDirs();
let fx: PromtoolFixture;

beforeAll(async () => {
  assertPromtool();
  fx = await makePromtoolFixture(tmp, {
    label: "verify",
    seed: 31,
    series: 60,
    durationMs: 3 * 3_600_000,
    intervalMs: 60_000,
  });
});
afterAll(() => tmp.cleanup());

/** A copy of the first promtool block, edited by `fn`, under a directory named by its ULID. */
async function edited(fn: (dir: string) => Promise<void>): Promise<string> {
  const b = fx.blocks[0]!;
  const dir = join(await tmp.make("verify-edit"), b.ulid);
  await copyDir(b.dir, dir);
  await fn(dir);
  return dir;
}

async function flip(file: string, at: (bytes: Buffer) => number): Promise<void> {
  const bytes = await readFile(file);
  bytes[at(bytes)]! ^= 0x20;
  await writeFile(file, bytes);
}

const codes = (r: VerifyReport) => [...new Set(r.problems.map((p) => p.code))].sort();

describe("strata verify on promtool blocks", () => {
  it("finds every promtool block healthy (legacy label index sections included)", async () => {
    for (const b of fx.blocks) {
      const r = await verifyBlock(new DirBlockSource(b.dir), { expectedUlid: b.ulid });
      expect(r.problems).toEqual([]);
      expect(r.stats.samples).toBe(b.meta.stats.numSamples);
    }
    const cli = await runStrata(["verify", ...fx.blocks.map((b) => b.dir)]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain(": ok (");
  });

  it("reports a flipped chunk byte as BadChecksum in chunks/000001, one line per problem, exit 1", async () => {
    const dir = await edited((d) => flip(join(d, "chunks", "000001"), () => 20));
    const r = await verifyBlock(new DirBlockSource(dir));
    expect(codes(r)).toEqual([Code.BadChecksum]);
    expect(r.problems[0]).toMatchObject({ file: "chunks/000001", offset: 8, severity: "reject" });
    const cli = await runStrata(["verify", dir]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toBe("");
    expect(cli.stdout).toMatch(/chunks\/000001@8: BadChecksum \[reject\]: .*expected stored 0x/);
  });

  it("reports a corrupted legacy label index (written by promtool 2.x) by its CRC", async () => {
    const dir = await edited(async (d) => {
      const idx = await readFile(join(d, "index"));
      const toc = idx.length - 52;
      const labelIndices = Number(idx.readBigUInt64BE(toc + 16));
      const labelIndicesTable = Number(idx.readBigUInt64BE(toc + 24));
      expect(labelIndicesTable).not.toBe(Number(idx.readBigUInt64BE(toc + 40)));
      idx[Math.ceil(labelIndices / 4) * 4 + 10]! ^= 1;
      await writeFile(join(d, "index"), idx);
    });
    const r = await verifyBlock(new DirBlockSource(dir));
    expect(codes(r)).toEqual([Code.BadChecksum]);
    expect(r.problems[0]!.file).toBe("index");
  });

  it("reports a truncated index and a wrong meta.json without a stack trace", async () => {
    const dir = await edited(async (d) => {
      await truncate(join(d, "index"), 100);
      const meta = JSON.parse(await readFile(join(d, "meta.json"), "utf8"));
      meta.stats.numSeries += 1;
      await writeFile(join(d, "meta.json"), JSON.stringify(meta));
    });
    const cli = await runStrata(["verify", "--json", dir]);
    expect(cli.code).toBe(1);
    const report = JSON.parse(cli.stdout) as VerifyReport;
    expect(report.ok).toBe(false);
    expect(codes(report)).toContain(Code.BadChecksum);
    expect(cli.stderr).not.toMatch(/at .*\.ts:\d+/);
  });

  it("repairs a promtool block with wrong stats (and a chunk ending at maxTime, a warning); promtool reads the result", async () => {
    const b = fx.blocks[0]!;
    const dir = await edited(async (d) => {
      const meta = JSON.parse(await readFile(join(d, "meta.json"), "utf8"));
      meta.maxTime = meta.maxTime - 1; // the last chunk now ends exactly at maxTime (ChunkEndsAtMaxTime, warn)
      meta.stats.numChunks += 5;
      await writeFile(join(d, "meta.json"), JSON.stringify(meta));
    });
    const before = await verifyBlock(new DirBlockSource(dir), { expectedUlid: b.ulid });
    expect(before.ok).toBe(false);
    expect(before.problems.every((p) => p.severity !== "reject")).toBe(true);
    expect(codes(before)).toContain(Code.MetaStatsMismatch);
    const out = await tmp.make("verify-repaired");
    const cli = await runStrata(["verify", dir, "--repair", "--out", out]);
    expect(cli.code).toBe(1);
    const repaired = lastLine(cli.stdout);
    expect(repaired.startsWith(out)).toBe(true);
    const after = await runStrata(["verify", repaired]);
    expect(after.code, after.stdout).toBe(0);
    await promtoolAnalyze(repaired, { extended: true });
    const dump = await promtoolDump(repaired);
    expect(dump.length).toBeGreaterThan(0);
  });

  it("rejects bad usage with exit 2", async () => {
    expect((await runStrata(["verify"])).code).toBe(2);
    expect((await runStrata(["verify", fx.blocks[0]!.dir, "--repair"])).code).toBe(2);
  });
});
