// Prometheus reads what Strata writes: `strata rewrite` (with and without
// --reencode) must produce a block that `promtool tsdb analyze --extended`
// accepts (it loads every chunk) and whose `promtool tsdb dump` is identical,
// line for line, to the dump of the block it came from.
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  assertPromtool,
  diffLinesOrdered,
  makeStandardFixtures,
  promtoolAnalyze,
  promtoolDump,
  readMeta,
  type BlockInfo,
  type PromtoolFixture,
} from "@strata/testkit/promtool";
import { lastLine, runStrataOk } from "@strata/testkit/cli";
import { TempDirs } from "@strata/testkit/tmp";

const tmp = new TempDirs();
let varied: PromtoolFixture;
let sixHour: PromtoolFixture;
let large: PromtoolFixture;

beforeAll(async () => {
  assertPromtool();
  [varied, sixHour, large] = await makeStandardFixtures(tmp, "w-", 21);
});

afterAll(() => tmp.cleanup());

// The originals' dumps are needed by both describe.each rounds: dump each once.
const originalDumps = new Map<string, Promise<string[]>>();
function originalDump(b: BlockInfo): Promise<string[]> {
  let d = originalDumps.get(b.dir);
  if (!d) originalDumps.set(b.dir, (d = promtoolDump(b.dir)));
  return d;
}

/**
 * Every chunk in a block's segment files as "encoding:hex(data)", sorted.
 * Read independently of Strata (8-byte segment header, then uvarint length,
 * encoding byte, data, CRC32C per chunk) so a rewrite without --reencode can
 * be checked to carry chunk bytes over unchanged: dump and PromQL print every
 * NaN as "NaN", so only the bytes show whether a NaN payload survived.
 */
async function chunkPayloads(blockDir: string): Promise<string[]> {
  const dir = join(blockDir, "chunks");
  const out: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const buf = await readFile(join(dir, name));
    expect(buf.readUInt32BE(0), `${name} magic`).toBe(0x85bd40dd);
    let off = 8;
    while (off < buf.length) {
      let len = 0;
      for (let shift = 1; ; shift *= 128) {
        const byte = buf[off++]!;
        len += (byte & 0x7f) * shift;
        if (byte < 0x80) break;
      }
      const enc = buf[off];
      out.push(`${enc}:${buf.subarray(off + 1, off + 1 + len).toString("hex")}`);
      off += 1 + len + 4;
    }
    expect(off, `${name} ends with a whole chunk`).toBe(buf.length);
  }
  return out.sort();
}

/** Runs `strata rewrite`, checks where the new block went, returns its directory. */
async function rewrite(b: BlockInfo, reencode: boolean): Promise<string> {
  const out = await tmp.make(reencode ? "reencoded" : "rewritten");
  const args = ["rewrite", b.dir, "--out", out];
  if (reencode) args.push("--reencode");
  const r = await runStrataOk(args);
  const newDir = resolve(lastLine(r.stdout));
  expect(dirname(newDir), "new block must be directly under --out").toBe(resolve(out));
  expect(basename(newDir)).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  expect((await stat(newDir)).isDirectory()).toBe(true);
  return newDir;
}

async function checkRewrite(b: BlockInfo, reencode: boolean, expectedDump: readonly string[]): Promise<void> {
  const newDir = await rewrite(b, reencode);
  const meta = await readMeta(newDir);
  expect(meta.ulid).toBe(basename(newDir));
  expect(meta.ulid).not.toBe(b.ulid);
  expect(meta.version).toBe(1);
  expect(meta.minTime).toBe(b.meta.minTime);
  expect(meta.maxTime).toBe(b.meta.maxTime);
  expect(meta.stats.numSamples).toBe(b.meta.stats.numSamples);
  expect(meta.stats.numSeries).toBe(b.meta.stats.numSeries);
  if (!reencode) {
    expect(meta.stats.numChunks).toBe(b.meta.stats.numChunks);
    const original = await chunkPayloads(b.dir);
    expect(original.length).toBe(b.meta.stats.numChunks);
    expect(await chunkPayloads(newDir), "chunks are copied byte for byte").toEqual(original);
  }

  const analyze = await promtoolAnalyze(newDir, { extended: true });
  expect(analyze.code).toBe(0);
  expect(analyze.blockId).toBe(meta.ulid);
  expect(analyze.series).toBe(b.meta.stats.numSeries);
  expect(analyze.stdout).toContain("Compaction analysis:");

  const actual = await promtoolDump(newDir);
  expect(diffLinesOrdered(expectedDump, actual), `${reencode ? "reencoded" : "rewritten"} ${b.ulid}`).toBe("");
}

describe.each([
  ["without --reencode", false],
  ["with --reencode", true],
])("strata rewrite %s", (_name, reencode) => {
  it("writes blocks promtool analyzes and dumps identically (varied data, every block)", async () => {
    for (const b of varied.blocks) await checkRewrite(b, reencode, await originalDump(b));
  });

  it("handles a 6h block with many chunks per series", async () => {
    const b = sixHour.blocks[0]!;
    await checkRewrite(b, reencode, await originalDump(b));
  });

  it("handles thousands of series", async () => {
    for (const b of large.blocks) await checkRewrite(b, reencode, await originalDump(b));
  });
});

describe("the original promtool blocks", () => {
  it("pass promtool tsdb analyze --extended (sanity check of the oracle)", async () => {
    const r = await promtoolAnalyze(varied.blocks[0]!.dir, { extended: true });
    expect(r.code).toBe(0);
    expect(r.blockId).toBe(varied.blocks[0]!.ulid);
    expect(r.series).toBe(varied.blocks[0]!.meta.stats.numSeries);
  });
});
