/**
 * What `strata ls` shows: every block of a tenant (or of the whole bucket) from one listing,
 * with its meta.json, its size (the listing's object sizes), its marks, the quarantine reason
 * from the verify report, and whether the bucket index holds it. Read-only. Everything read
 * is hostile: objects are size-checked from the listing before they are fetched, and a block
 * whose meta.json is missing, too large or does not parse is a row with its problem.
 */
import {
  DELETION_MARK_FILE,
  FormatError,
  META_FILE,
  NO_COMPACT_MARK_FILE,
  NO_DOWNSAMPLE_MARK_FILE,
  MAX_MARKER_BYTES,
  MAX_META_BYTES,
  blockResolution,
  isUlid,
  mapLimit,
  parseMarker,
  parseMeta,
  type BlockMeta,
  type MarkerFile,
  compareStrings,
} from "@strata/tsdb";
import { COMPACTOR_SHARD_ID_LABEL } from "@strata/compact";
import {
  BucketIndexInvalidError,
  BucketIndexUpdater,
  PARQUET_CONVERTER_MARK_FILE,
  listAll,
  parseBlockKey,
  type ObjectStore,
} from "@strata/bucket";
import { formatProblem, type Problem } from "@strata/verify";
import { z } from "zod";
import { pipelineLayout } from "./bindings/index.ts";
import { QUARANTINE_REASON, VERIFIED_FILE, VERIFY_REPORT_FILE } from "./jobs/admit.ts";

/** Marker files are a few hundred bytes; anything past this is not one. */
/** The verify report keeps at most a few problems per code: a few MiB at worst. */
const MAX_REPORT_BYTES = 8 << 20;
/** Blocks read at once (each a few small GETs). */
const CONCURRENCY = 16;

export interface BlockMarks {
  /** Unix seconds. */
  deletion?: { time: number; details?: string };
  noCompact?: { time: number; reason: string; details?: string };
  noDownsample?: { time: number; reason: string; details?: string };
  /** The no-compact mark is the pipeline's quarantine: the verify report's first problem and how many it found. */
  quarantine?: { reason: string; problems: number };
  /** Marker files that are there but do not parse (they still count: Mimir keeps such a block out of compaction). */
  unreadable?: { file: MarkerFile; problem: string }[];
}

/** One block as `strata ls` shows it. `tenant` is the pipeline's name (`""` for the bucket root). */
export interface BlockRow {
  tenant: string;
  block: string;
  /** Sum of the sizes of every object under the block's folder, from the listing. */
  sizeBytes: number;
  objects: number;
  /** The newest object under the folder (ms since the epoch). */
  lastModified: number;
  /**
   * Why meta.json cannot be trusted (missing, too large, does not parse, names another block); meta fields are set only
   * when it parsed.
   */
  problem?: string;
  minTime?: number;
  /** Exclusive, as in meta.json. */
  maxTime?: number;
  level?: number;
  /** Milliseconds: 0, 300000, 3600000. */
  resolution?: number;
  labels?: Record<string, string>;
  /** Mimir's split-and-merge shard (`__compactor_shard_id__`), when the block has one. */
  shard?: string;
  series?: number;
  samples?: number;
  chunks?: number;
  marks: BlockMarks;
  /** In the tenant's bucket index (`bucket-index.json.gz`). */
  indexed: boolean;
  /** Has a verification record (`strata-verified.json`) next to it. */
  verified: boolean;
  /** Has Parquet: Cortex's converter mark (`parquet-converter-mark.json`) next to it. */
  parquet?: true;
}

export interface BucketListing {
  blocks: BlockRow[];
  /** Tenants seen (pipeline names), in listing order. */
  tenants: string[];
  /** Tenant-level notes: an index that cannot be read (its blocks then show as not indexed). */
  notes: string[];
}

/** A row with the meta it was made from, for the operations that reason on metas (marks). */
export interface ScannedBlock {
  row: BlockRow;
  meta?: BlockMeta;
}

interface Folder {
  tenant: string;
  block: string;
  size: number;
  objects: number;
  lastModified: number;
  /** Sizes of the files that matter here (meta.json, markers, report, record). */
  files: Map<string, number>;
}

const INTERESTING = new Set<string>([
  META_FILE,
  DELETION_MARK_FILE,
  NO_COMPACT_MARK_FILE,
  NO_DOWNSAMPLE_MARK_FILE,
  VERIFY_REPORT_FILE,
  VERIFIED_FILE,
  PARQUET_CONVERTER_MARK_FILE,
]);

/** Every block of `tenant` (pipeline name; every tenant when undefined), sorted by tenant and ULID. */
export async function listBucketBlocks(
  store: ObjectStore,
  opts: { tenant?: string; maxMetaBytes?: number } = {},
): Promise<BucketListing> {
  const r = await scanBlocks(store, opts);
  return { blocks: r.blocks.map((b) => b.row), tenants: r.tenants, notes: r.notes };
}

/** `listBucketBlocks` with each row's meta; `only` reads just those blocks (the listing is one either way). */
export async function scanBlocks(
  store: ObjectStore,
  opts: { tenant?: string; maxMetaBytes?: number; only?: ReadonlySet<string> } = {},
): Promise<{ blocks: ScannedBlock[]; tenants: string[]; notes: string[] }> {
  const layout = pipelineLayout();
  const prefix = opts.tenant === undefined ? "" : layout.tenantPrefix(opts.tenant);
  const folders = new Map<string, Folder>();
  const tenantShaped = new Set<string>();
  for await (const o of listAll(store, prefix)) {
    const k = parseBlockKey(o.key, layout.rootTenant);
    if ("reason" in k) {
      if (k.tenantShapedFolder !== undefined) tenantShaped.add(`\0${k.tenantShapedFolder.toUpperCase()}`);
      continue;
    }
    if (opts.tenant !== undefined && k.tenant !== opts.tenant) continue;
    const block = k.block.toUpperCase();
    const id = `${k.tenant}\0${block}`;
    // `<ULID>/<ULID>/…` inside a tenant is no block file (as the storage binding's listing).
    const slash = k.file.indexOf("/");
    if (slash > 0 && isUlid(k.file.slice(0, slash))) tenantShaped.add(id);
    let f = folders.get(id);
    if (!f) folders.set(id, (f = { tenant: k.tenant, block, size: 0, objects: 0, lastModified: 0, files: new Map() }));
    f.size += o.size;
    f.objects++;
    f.lastModified = Math.max(f.lastModified, o.lastModified.getTime());
    if (INTERESTING.has(k.file)) f.files.set(k.file, o.size);
  }
  const list = [...folders.entries()]
    .filter(([id, f]) => !tenantShaped.has(id) && (opts.only === undefined || opts.only.has(f.block)))
    .map(([, f]) => f)
    // UTF-8 byte order, as everywhere else tenants are sorted (the bucket's own listing order).
    .sort((a, b) => (a.tenant === b.tenant ? compareStrings(a.block, b.block) : compareStrings(a.tenant, b.tenant)));
  const tenants = [...new Set(list.map((f) => f.tenant))];
  const notes: string[] = [];
  const indexed = new Map<string, Set<string>>();
  const updater = new BucketIndexUpdater(store, { layout });
  for (const t of tenants) {
    try {
      const cur = await updater.read(t);
      indexed.set(t, new Set(cur?.index.blocks.map((b) => b.block_id.toUpperCase())));
      if (!cur) notes.push(`tenant ${JSON.stringify(t)}: no bucket index`);
    } catch (e) {
      if (!(e instanceof BucketIndexInvalidError)) throw e;
      indexed.set(t, new Set());
      notes.push(`tenant ${JSON.stringify(t)}: bucket index unreadable (${e.message}); run \`strata index rebuild\``);
    }
  }
  const maxMetaBytes = opts.maxMetaBytes ?? MAX_META_BYTES;
  const blocks = await mapLimit(list, CONCURRENCY, (f) =>
    readFolder(store, f, indexed.get(f.tenant)?.has(f.block) ?? false, maxMetaBytes),
  );
  return { blocks, tenants, notes };
}

async function readFolder(
  store: ObjectStore,
  f: Folder,
  inIndex: boolean,
  maxMetaBytes: number,
): Promise<ScannedBlock> {
  const layout = pipelineLayout();
  const key = (file: string) => layout.blockFile(f.tenant, f.block, file);
  const row: BlockRow = {
    tenant: f.tenant,
    block: f.block,
    sizeBytes: f.size,
    objects: f.objects,
    lastModified: f.lastModified,
    marks: {},
    indexed: inIndex,
    verified: f.files.has(VERIFIED_FILE),
    ...(f.files.has(PARQUET_CONVERTER_MARK_FILE) ? { parquet: true as const } : {}),
  };
  let meta: BlockMeta | undefined;
  const metaSize = f.files.get(META_FILE);
  if (metaSize === undefined) row.problem = "no meta.json (a partial upload, or a deletion under way)";
  else if (metaSize > maxMetaBytes) row.problem = `meta.json is ${metaSize} bytes, over the ${maxMetaBytes}-byte limit`;
  else {
    const r = await store.get(key(META_FILE));
    if (!r) row.problem = "meta.json vanished while listing (deleted)";
    else {
      try {
        meta = parseMeta(r.body, `${store.url}/${key(META_FILE)}`, { maxBytes: maxMetaBytes });
      } catch (e) {
        if (!(e instanceof FormatError)) throw e;
        row.problem = e.message;
      }
    }
  }
  if (meta) {
    fillMeta(row, meta);
    if (meta.ulid !== f.block) row.problem = `meta.json names block ${meta.ulid}, not its folder ${f.block}`;
  }
  for (const file of [DELETION_MARK_FILE, NO_COMPACT_MARK_FILE, NO_DOWNSAMPLE_MARK_FILE] as const)
    await readMark(store, row, file, f.files.get(file), key(file));
  if (row.marks.noCompact?.reason === QUARANTINE_REASON)
    row.marks.quarantine = await quarantineReason(
      store,
      key(VERIFY_REPORT_FILE),
      f.files.get(VERIFY_REPORT_FILE),
      row.marks.noCompact.details,
    );
  return { row, meta };
}

function fillMeta(row: BlockRow, meta: BlockMeta): void {
  row.minTime = meta.minTime;
  row.maxTime = meta.maxTime;
  row.level = meta.compaction.level;
  row.resolution = blockResolution(meta);
  const labels = { ...(meta.thanos?.labels ?? {}) };
  row.labels = labels;
  const shard = labels[COMPACTOR_SHARD_ID_LABEL];
  if (shard !== undefined) row.shard = shard;
  const n = (v: bigint | undefined) => (v === undefined ? undefined : Number(v));
  row.series = n(meta.stats.numSeries);
  row.samples = n(meta.stats.numSamples);
  row.chunks = n(meta.stats.numChunks);
}

async function readMark(
  store: ObjectStore,
  row: BlockRow,
  file: MarkerFile,
  size: number | undefined,
  key: string,
): Promise<void> {
  if (size === undefined) return;
  const bad = (problem: string): void => {
    (row.marks.unreadable ??= []).push({ file, problem });
  };
  if (size > MAX_MARKER_BYTES) return bad(`${size} bytes, over the ${MAX_MARKER_BYTES}-byte limit of a marker`);
  const r = await store.get(key);
  if (!r) return;
  try {
    if (file === DELETION_MARK_FILE) {
      const m = parseMarker(file, r.body);
      row.marks.deletion = { time: m.deletion_time, ...(m.details ? { details: m.details } : {}) };
    } else if (file === NO_COMPACT_MARK_FILE) {
      const m = parseMarker(file, r.body);
      row.marks.noCompact = { time: m.no_compact_time, reason: m.reason, ...(m.details ? { details: m.details } : {}) };
    } else {
      const m = parseMarker(NO_DOWNSAMPLE_MARK_FILE, r.body);
      row.marks.noDownsample = {
        time: m.no_downsample_time,
        reason: m.reason,
        ...(m.details ? { details: m.details } : {}),
      };
    }
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    bad(e.message);
  }
}

/** The parts of the pipeline's verify report (`bindings/engines.ts`) this reads; the rest is ignored. */
const ReportSchema = z.object({
  problems: z
    .array(
      z.object({
        code: z.string(),
        severity: z.string(),
        file: z.string().optional(),
        offset: z.number().optional(),
        series: z.string().optional(),
        message: z.string(),
        expected: z.string().optional(),
        found: z.string().optional(),
      }),
    )
    .max(100_000),
  counts: z.record(z.string(), z.number()).optional(),
});

/** The verify report's first rejecting problem; the mark's details when the report is absent or unreadable. */
async function quarantineReason(
  store: ObjectStore,
  key: string,
  size: number | undefined,
  details: string | undefined,
): Promise<{ reason: string; problems: number }> {
  const fallback = { reason: details ?? "verification failed (no report)", problems: 0 };
  if (size === undefined || size > MAX_REPORT_BYTES) return fallback;
  const r = await store.get(key);
  if (!r) return fallback;
  let report: z.infer<typeof ReportSchema>;
  try {
    report = ReportSchema.parse(JSON.parse(new TextDecoder().decode(r.body)));
  } catch {
    return fallback;
  }
  const bad = report.problems.filter((p) => p.severity === "reject" || p.severity === "repairable");
  const first = bad[0] ?? report.problems[0];
  if (!first) return fallback;
  const total = report.counts ? Object.values(report.counts).reduce((a, b) => a + b, 0) : report.problems.length;
  // The report's problems are the verifier's own (`Problem`), written by the pipeline.
  return { reason: formatProblem("", first as Problem).replace(/^:? ?/, ""), problems: Math.max(total, 1) };
}
