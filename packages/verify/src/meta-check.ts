/**
 * meta.json, the Thanos file list and the tombstones (§10 items 1-5 and 24): checks that
 * need the series walk's totals run after it (checkStats, checkTombstones).
 */
import { Decbuf, FormatError, compareUlids, decodeTombstones, parseMeta, type BlockMeta, type BlockSource } from "@strata/tsdb";
import { utf8Decode } from "@strata/tsdb/encoding/utf8";
import { Code, type Problems, type VerifyStats } from "./report.ts";
import type { Segments } from "./segments.ts";

const META = "meta.json";
/** A meta.json or tombstones file larger than this is not read (a real one is a few KiB). */
const MAX_SMALL_FILE = 64 << 20;

export async function readMetaChecked(block: BlockSource, expectedUlid: string | undefined, problems: Problems): Promise<BlockMeta | undefined> {
  const src = await block.tryOpen(META);
  if (!src) {
    problems.add({ code: Code.MetaMissing, file: META, message: "block has no meta.json (incomplete upload?)" });
    return undefined;
  }
  let meta: BlockMeta;
  try {
    if (src.size > MAX_SMALL_FILE) {
      problems.add({ code: Code.MetaInvalid, file: META, message: "meta.json too large", expected: `≤ ${MAX_SMALL_FILE} bytes`, found: `${src.size} bytes` });
      return undefined;
    }
    const bytes = await src.read(0, src.size);
    meta = parseMeta(utf8Decode(bytes, 0, bytes.length), META);
  } catch (e) {
    problems.fromError(e, { file: META, code: e instanceof FormatError ? Code.MetaInvalid : undefined });
    return undefined;
  } finally {
    await src.close?.();
  }
  if (expectedUlid !== undefined && expectedUlid.toUpperCase() !== meta.ulid) {
    problems.add({ code: Code.UlidMismatch, file: META, message: "block directory name and meta.json ulid differ", expected: expectedUlid, found: meta.ulid });
  }
  if (!(meta.minTime < meta.maxTime)) {
    problems.add({ code: Code.MetaInvalid, file: META, message: "minTime must be before maxTime", expected: "minTime < maxTime", found: `${meta.minTime} ≥ ${meta.maxTime}` });
  }
  const c = meta.compaction;
  if (c.level < 1) problems.add({ code: Code.SourcesInvalid, file: META, message: "compaction.level below 1", expected: "≥ 1", found: String(c.level) });
  const src2 = c.sources ?? [];
  for (let i = 1; i < src2.length; i++) {
    if (compareUlids(src2[i - 1], src2[i]) >= 0) {
      problems.add({ code: Code.SourcesInvalid, file: META, message: "compaction.sources not sorted and unique", expected: `> ${src2[i - 1]}`, found: src2[i] });
      break;
    }
  }
  return meta;
}

/** stats in meta.json against what the walk counted (only when the walk saw every series). */
export function checkStats(meta: BlockMeta, stats: VerifyStats, withChunks: boolean, tombstones: number | undefined, problems: Problems): void {
  const s = meta.stats;
  const cmp = (key: string, stored: bigint | undefined, actual: number, optional = false) => {
    if (optional && stored === undefined) return;
    if ((stored ?? 0n) !== BigInt(actual)) problems.add({ code: Code.MetaStatsMismatch, file: META, message: `stats.${key} differs from the block's content`, expected: String(actual), found: String(stored ?? 0n) });
  };
  cmp("numSeries", s.numSeries, stats.series);
  cmp("numChunks", s.numChunks, stats.chunks);
  if (withChunks) {
    cmp("numSamples", s.numSamples, stats.samples);
    cmp("numFloatSamples", s.numFloatSamples, stats.floatSamples, true);
    cmp("numHistogramSamples", s.numHistogramSamples, stats.histogramSamples, true);
  }
  if (s.numFloatSamples !== undefined && s.numHistogramSamples !== undefined && s.numSamples !== undefined && s.numFloatSamples + s.numHistogramSamples > s.numSamples) {
    problems.add({ code: Code.MetaStatsMismatch, file: META, message: "numFloatSamples + numHistogramSamples exceed numSamples", expected: `≤ ${s.numSamples}`, found: String(s.numFloatSamples + s.numHistogramSamples) });
  }
  if (tombstones !== undefined) cmp("numTombstones", s.numTombstones, tombstones);
}

/** thanos.segment_files and thanos.files against the real files. */
export function checkThanosFiles(meta: BlockMeta, segs: Segments, indexSize: number | undefined, problems: Problems): void {
  const t = meta.thanos;
  if (!t) return;
  const names = segs.list.map((s) => s.name);
  if (t.segment_files?.length && t.segment_files.join(",") !== names.join(",")) {
    problems.add({ code: Code.ThanosFilesMismatch, file: META, message: "thanos.segment_files differ from the chunk files", expected: names.join(",") || "(none)", found: t.segment_files.join(",") });
  }
  if (!t.files?.length) return;
  const real = new Map<string, number | undefined>();
  let listedIndexUnknown = false;
  for (const s of segs.list) real.set(s.path, s.size);
  if (indexSize !== undefined) real.set("index", indexSize);
  else listedIndexUnknown = true;
  real.set(META, undefined);
  const listed = new Set<string>();
  for (const f of t.files) {
    listed.add(f.rel_path);
    if (listedIndexUnknown && f.rel_path === "index") continue; // missing index: reported as IndexMissing
    if (!real.has(f.rel_path)) {
      problems.add({ code: Code.ThanosFilesMismatch, file: META, message: `thanos.files lists ${f.rel_path}, which the block does not have` });
      continue;
    }
    const size = real.get(f.rel_path);
    if (f.rel_path === META) {
      if (f.size_bytes) problems.add({ code: Code.ThanosFilesMismatch, file: META, message: "thanos.files gives meta.json a size", expected: "no size_bytes", found: String(f.size_bytes) });
    } else if ((f.size_bytes ?? 0) !== size) {
      problems.add({ code: Code.ThanosFilesMismatch, file: META, message: `thanos.files size of ${f.rel_path} differs from the file`, expected: String(size), found: String(f.size_bytes ?? 0) });
    }
  }
  for (const p of real.keys()) if (!listed.has(p)) problems.add({ code: Code.ThanosFilesMismatch, file: META, message: `thanos.files does not list ${p}` });
}

/**
 * The tombstones file: magic, version and CRC via the tsdb reader, then every entry's
 * ref (must be a series id) and interval. Returns the merged interval count, or undefined.
 */
export async function checkTombstones(block: BlockSource, ids: Uint8Array | undefined, problems: Problems): Promise<number | undefined> {
  const src = await block.tryOpen("tombstones");
  if (!src) return 0;
  try {
    if (src.size > MAX_SMALL_FILE) {
      problems.add({ code: Code.TombstoneInvalid, file: "tombstones", message: "tombstones file too large to verify", expected: `≤ ${MAX_SMALL_FILE} bytes`, found: `${src.size} bytes` });
      return undefined;
    }
    const bytes = await src.read(0, src.size);
    const t = decodeTombstones(bytes, "tombstones");
    const d = new Decbuf(bytes, { start: 5, end: bytes.length - 4, file: "tombstones" });
    let bad = 0;
    while (d.remaining() > 0 && bad < 100) {
      const at = d.pos;
      const ref = d.uvarint();
      const mint = d.varint();
      const maxt = d.varint();
      if (ids && !(ref < ids.length * 8 && ids[Math.floor(ref / 8)] & (1 << ref % 8))) {
        problems.add({ code: Code.TombstoneInvalid, file: "tombstones", offset: at, message: `tombstone for series id ${ref}, which is not a series entry`, found: String(ref) });
        bad++;
      }
      if (mint > maxt) {
        problems.add({ code: Code.TombstoneInvalid, file: "tombstones", offset: at, message: "tombstone interval ends before it starts", expected: "mint ≤ maxt", found: `[${mint}, ${maxt}]` });
        bad++;
      }
    }
    return t.total();
  } catch (e) {
    problems.fromError(e, { file: "tombstones" });
    return undefined;
  } finally {
    await src.close?.();
  }
}
