/**
 * meta.json, the Thanos file list and the tombstones (§10 items 1-5 and 24): checks that
 * need the series walk's totals run after it (checkStats, checkTombstones).
 */
import {
  Decbuf,
  FormatError,
  MAX_META_BYTES,
  RESOLUTIONS,
  RESOLUTION_RAW,
  blockResolution,
  compareUlids,
  isResolution,
  decodeTombstones,
  parseMeta,
  type BlockMeta,
  type BlockSource,
} from "@strata/tsdb";
import { utf8Decode } from "@strata/tsdb";
import { Code, type Problems, type VerifyStats } from "./report.ts";
import type { Segments } from "./segments.ts";
import type { VerifyOptions } from "./options.ts";

const META = "meta.json";
/** A tombstones file larger than this is not read (a real one is a few KiB). */
const MAX_SMALL_FILE = 64 << 20;
const DAY = 86_400_000;
/** Thanos' largest default compaction range (2h, 8h, 2d, 14d). */
export const DEFAULT_MAX_RANGE_MS = 14 * DAY;
export const DEFAULT_FUTURE_SLACK_MS = DAY;
/**
 * thanos.source of a block that is a copy of one block and keeps its compaction (level
 * and sources) as they were: Thanos' block.Repair ("compactor.repair", "bucket.repair")
 * and Strata's repairBlock and rewriteBlock ("compactor.repair", "bucket.rewrite").
 */
const COPY_SOURCES: ReadonlySet<string> = new Set(["compactor.repair", "bucket.repair", "bucket.rewrite"]);

export async function readMetaChecked(
  block: BlockSource,
  opts: VerifyOptions,
  problems: Problems,
): Promise<BlockMeta | undefined> {
  const src = await block.tryOpen(META);
  if (!src) {
    problems.add({ code: Code.MetaMissing, file: META, message: "block has no meta.json (incomplete upload?)" });
    return undefined;
  }
  const maxBytes = opts.maxMetaBytes ?? MAX_META_BYTES;
  let meta: BlockMeta;
  try {
    if (src.size > maxBytes) {
      problems.add({
        code: Code.MetaTooLarge,
        file: META,
        message: "meta.json too large to read",
        expected: `≤ ${maxBytes} bytes`,
        found: `${src.size} bytes`,
      });
      return undefined;
    }
    const bytes = await src.read(0, src.size);
    meta = parseMeta(utf8Decode(bytes, 0, bytes.length), META, { maxBytes });
  } catch (e) {
    problems.fromError(e, { file: META, code: e instanceof FormatError ? Code.MetaInvalid : undefined });
    return undefined;
  } finally {
    await src.close?.();
  }
  if (opts.expectedUlid !== undefined && opts.expectedUlid.toUpperCase() !== meta.ulid) {
    problems.add({
      code: Code.UlidMismatch,
      file: META,
      message: "block directory name and meta.json ulid differ",
      expected: opts.expectedUlid,
      found: meta.ulid,
    });
  }
  checkMetaMeaning(meta, opts, problems);
  return meta;
}

/**
 * What a parsed meta.json says, checked for sense: its time range, its resolution, and
 * compaction.sources against its level and resolution.
 */
export function checkMetaMeaning(meta: BlockMeta, opts: VerifyOptions, problems: Problems): void {
  if (!(meta.minTime < meta.maxTime)) {
    problems.add({
      code: Code.MetaInvalid,
      file: META,
      message: "minTime must be before maxTime",
      expected: "minTime < maxTime",
      found: `${meta.minTime} ≥ ${meta.maxTime}`,
    });
  } else {
    const maxRange = opts.maxRangeMs ?? DEFAULT_MAX_RANGE_MS;
    if (meta.maxTime - meta.minTime > maxRange) {
      problems.add({
        code: Code.MetaRangeTooLong,
        file: META,
        message: "maxTime - minTime is longer than the largest compaction range",
        expected: `≤ ${maxRange} ms`,
        found: `${meta.maxTime - meta.minTime} ms ([${meta.minTime}, ${meta.maxTime}))`,
      });
    }
  }
  const now = opts.now ?? Date.now();
  const slack = opts.futureSlackMs ?? DEFAULT_FUTURE_SLACK_MS;
  if (meta.maxTime > now + slack) {
    problems.add({
      code: Code.MetaInFuture,
      file: META,
      message: "maxTime lies in the future",
      expected: `≤ ${now + slack} (now ${new Date(now).toISOString()} + ${slack} ms)`,
      found: `${meta.maxTime} (${isoOrRaw(meta.maxTime)})`,
    });
  }
  const res = blockResolution(meta);
  if (!isResolution(res)) {
    problems.add({
      code: Code.ResolutionInvalid,
      file: META,
      message: "thanos.downsample.resolution is not one Thanos writes",
      expected: RESOLUTIONS.join(", "),
      found: String(res),
    });
  }
  const c = meta.compaction;
  if (c.level < 1)
    problems.add({
      code: Code.SourcesInvalid,
      file: META,
      message: "compaction.level below 1",
      expected: "≥ 1",
      found: String(c.level),
    });
  const sources = c.sources ?? [];
  for (let i = 1; i < sources.length; i++) {
    if (compareUlids(sources[i - 1]!, sources[i]!) >= 0) {
      problems.add({
        code: Code.SourcesInvalid,
        file: META,
        message: "compaction.sources not sorted and unique",
        expected: `> ${sources[i - 1]}`,
        found: sources[i],
      });
      break;
    }
  }
  const inconsistent = sourcesInconsistency(meta, res);
  if (inconsistent)
    problems.add({
      code: Code.SourcesInconsistent,
      file: META,
      ...inconsistent,
      found: `level ${c.level}, resolution ${res}, sources ${listed(sources)}`,
    });
}

/**
 * compaction.sources (the level-1 ancestors) against level and resolution, or undefined
 * when they agree. What each writer leaves there:
 * - a raw level-1 block is cut by Prometheus, Mimir or a Thanos receiver with sources
 *   [its own ULID] (older writers left them empty); a copy of one by Thanos (block.Repair,
 *   `tools bucket rewrite`) keeps the original's single source, Strata's (repairBlock,
 *   rewriteBlock) lists itself;
 * - a compaction (level ≥ 2) lists the union of its inputs' sources, never its new ULID;
 * - a downsampled block keeps its input's level and sources (Thanos' Downsample,
 *   outputMeta in @strata/downsample), so it too lists ≥ 1 source and not itself;
 * - Thanos' `tools bucket rewrite` replaces the sources of any block with [its new ULID] and
 *   records the old ones in thanos.rewrites: [itself] is accepted when that record exists.
 */
function sourcesInconsistency(meta: BlockMeta, res: number): { message: string; expected: string } | undefined {
  const sources = meta.compaction.sources ?? [];
  const self = sources.includes(meta.ulid);
  const thanosRewrite = self && sources.length === 1 && (meta.thanos?.rewrites?.length ?? 0) > 0;
  if (res > RESOLUTION_RAW || meta.compaction.level >= 2) {
    const what =
      res > RESOLUTION_RAW
        ? "a downsampled block keeps its input's sources"
        : `a level-${meta.compaction.level} block lists the sources it was compacted from`;
    if (sources.length === 0) return { message: `compaction.sources empty: ${what}`, expected: "≥ 1 source" };
    if (self && !thanosRewrite)
      return {
        message: `compaction.sources lists the block itself: ${what}`,
        expected: `sources without ${meta.ulid}`,
      };
    return undefined;
  }
  if (meta.compaction.level !== 1 || sources.length === 0 || (self && sources.length === 1)) return undefined;
  if (sources.length > 1)
    return { message: "a raw level-1 block lists more than one source", expected: `[] or [${meta.ulid}]` };
  // Thanos' repairs and rewrites keep the original's source; Strata's copies list themselves
  // (copiedSources), and a block without a Thanos section has no such excuse.
  const copy = COPY_SOURCES.has(meta.thanos?.source ?? "");
  if (copy) return undefined;
  return {
    message: `a raw level-1 block from "${meta.thanos?.source ?? ""}" lists a source other than itself (only a repaired or rewritten copy keeps its original's)`,
    expected: `[] or [${meta.ulid}]`,
  };
}

function listed(ids: readonly string[]): string {
  if (ids.length <= 3) return `[${ids.join(", ")}]`;
  return `[${ids.slice(0, 3).join(", ")}, … ${ids.length - 3} more]`;
}

function isoOrRaw(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? "not a date" : d.toISOString();
}

/** stats in meta.json against what the walk counted (only when the walk saw every series). */
export function checkStats(
  meta: BlockMeta,
  stats: VerifyStats,
  withChunks: boolean,
  tombstones: number | undefined,
  problems: Problems,
): void {
  const s = meta.stats;
  const cmp = (key: string, stored: bigint | undefined, actual: number, optional = false) => {
    if (optional && stored === undefined) return;
    if ((stored ?? 0n) !== BigInt(actual))
      problems.add({
        code: Code.MetaStatsMismatch,
        file: META,
        message: `stats.${key} differs from the block's content`,
        expected: String(actual),
        found: String(stored ?? 0n),
      });
  };
  cmp("numSeries", s.numSeries, stats.series);
  cmp("numChunks", s.numChunks, stats.chunks);
  if (withChunks) {
    cmp("numSamples", s.numSamples, stats.samples);
    cmp("numFloatSamples", s.numFloatSamples, stats.floatSamples, true);
    cmp("numHistogramSamples", s.numHistogramSamples, stats.histogramSamples, true);
  }
  if (
    s.numFloatSamples !== undefined &&
    s.numHistogramSamples !== undefined &&
    s.numSamples !== undefined &&
    s.numFloatSamples + s.numHistogramSamples > s.numSamples
  ) {
    problems.add({
      code: Code.MetaStatsMismatch,
      file: META,
      message: "numFloatSamples + numHistogramSamples exceed numSamples",
      expected: `≤ ${s.numSamples}`,
      found: String(s.numFloatSamples + s.numHistogramSamples),
    });
  }
  if (tombstones !== undefined) cmp("numTombstones", s.numTombstones, tombstones);
}

/** thanos.segment_files and thanos.files against the real files. */
export function checkThanosFiles(
  meta: BlockMeta,
  segs: Segments,
  indexSize: number | undefined,
  problems: Problems,
): void {
  const t = meta.thanos;
  if (!t) return;
  const names = segs.list.map((s) => s.name);
  if (t.segment_files?.length && t.segment_files.join(",") !== names.join(",")) {
    problems.add({
      code: Code.ThanosFilesMismatch,
      file: META,
      message: "thanos.segment_files differ from the chunk files",
      expected: names.join(",") || "(none)",
      found: t.segment_files.join(","),
    });
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
      problems.add({
        code: Code.ThanosFilesMismatch,
        file: META,
        message: `thanos.files lists ${f.rel_path}, which the block does not have`,
      });
      continue;
    }
    const size = real.get(f.rel_path);
    if (f.rel_path === META) {
      if (f.size_bytes)
        problems.add({
          code: Code.ThanosFilesMismatch,
          file: META,
          message: "thanos.files gives meta.json a size",
          expected: "no size_bytes",
          found: String(f.size_bytes),
        });
    } else if ((f.size_bytes ?? 0) !== size) {
      problems.add({
        code: Code.ThanosFilesMismatch,
        file: META,
        message: `thanos.files size of ${f.rel_path} differs from the file`,
        expected: String(size),
        found: String(f.size_bytes ?? 0),
      });
    }
  }
  for (const p of real.keys())
    if (!listed.has(p))
      problems.add({ code: Code.ThanosFilesMismatch, file: META, message: `thanos.files does not list ${p}` });
}

/**
 * The tombstones file: magic, version and CRC via the tsdb reader, then every entry's
 * ref (must be a series id) and interval. Returns the merged interval count, or undefined.
 */
export async function checkTombstones(
  block: BlockSource,
  ids: Uint8Array | undefined,
  problems: Problems,
): Promise<number | undefined> {
  const src = await block.tryOpen("tombstones");
  if (!src) return 0;
  try {
    if (src.size > MAX_SMALL_FILE) {
      problems.add({
        code: Code.TombstoneInvalid,
        file: "tombstones",
        message: "tombstones file too large to verify",
        expected: `≤ ${MAX_SMALL_FILE} bytes`,
        found: `${src.size} bytes`,
      });
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
      if (ids && !(ref < ids.length * 8 && ids[Math.floor(ref / 8)]! & (1 << (ref % 8)))) {
        problems.add({
          code: Code.TombstoneInvalid,
          file: "tombstones",
          offset: at,
          message: `tombstone for series id ${ref}, which is not a series entry`,
          found: String(ref),
        });
        bad++;
      }
      if (mint > maxt) {
        problems.add({
          code: Code.TombstoneInvalid,
          file: "tombstones",
          offset: at,
          message: "tombstone interval ends before it starts",
          expected: "mint ≤ maxt",
          found: `[${mint}, ${maxt}]`,
        });
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
