/**
 * The format layer against files the Debian promtool (Prometheus 2.42) writes: a chunk segment
 * read record by record and rewritten byte for byte, a meta.json parsed and re-serialised byte
 * for byte. Moved here from packages/tsdb/test so that the packages' unit tests need no
 * external tool (`npm run test:unit`).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ChunkReader, ChunkWriter, MemoryBlock, chunkRecordSize, parseMeta, serializeMeta } from "@strata/tsdb";

const INPUT = new URL("../../packages/tsdb/test/fixtures/index-promtool-2.42/input.om", import.meta.url).pathname;
// Never skipped: CI installs promtool (.ci/setup); its absence is a failure, not a pass.
const haveProm = spawnSync("promtool", ["--version"]).status === 0;

function promtoolBlock(prefix: string): { dir: string; ulid: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const res = spawnSync("promtool", ["tsdb", "create-blocks-from", "openmetrics", INPUT, dir], { encoding: "utf8" });
  expect(res.status, res.stderr).toBe(0);
  const ulid = readdirSync(dir).find((n) => /^[0-9A-Z]{26}$/.test(n));
  expect(ulid).toBeDefined();
  return { dir, ulid: ulid! };
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

describe("files promtool 2.42 writes", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("has promtool installed", () => {
    expect(haveProm, "promtool not found: run `bash .ci/setup`").toBe(true);
  });

  it("a chunk segment: every record read and the segment rewritten byte for byte", async () => {
    const { dir, ulid } = promtoolBlock("strata-chunks-");
    dirs.push(dir);
    const seg = new Uint8Array(readFileSync(join(dir, ulid, "chunks", "000001")));
    const meta = JSON.parse(readFileSync(join(dir, ulid, "meta.json"), "utf8"));
    const blk = new MemoryBlock();
    blk.files.set("chunks/000001", seg);
    const r = await ChunkReader.open(blk, { windowSize: 512 });
    // Records are back to back: walk them by their own lengths.
    const out = new MemoryBlock();
    const w = new ChunkWriter(out);
    let off = 8;
    let n = 0;
    while (off < seg.length) {
      const c = await r.chunk(off);
      expect(await w.write({ encoding: c.encoding, data: c.data.slice() })).toBe(off);
      off += chunkRecordSize(c.data.length);
      n++;
    }
    await w.close();
    expect(off).toBe(seg.length);
    expect(n).toBe(meta.stats.numChunks);
    expect(sameBytes(out.files.get("chunks/000001"), seg)).toBe(true);
  });

  it("meta.json: parsed and re-serialised byte for byte; the empty tombstones file", () => {
    const { dir, ulid } = promtoolBlock("strata-meta-");
    dirs.push(dir);
    const text = readFileSync(join(dir, ulid, "meta.json"), "utf8");
    const m = parseMeta(text);
    expect(m.ulid).toBe(ulid);
    expect(m.stats.numSamples).toBeGreaterThan(0n);
    expect(serializeMeta(m, { style: "prometheus" })).toBe(text);
    const tomb = readFileSync(join(dir, ulid, "tombstones"));
    expect(Array.from(tomb)).toEqual([0x01, 0x30, 0xba, 0x30, 0x01, 0, 0, 0, 0]);
  });
});
