/**
 * What `strata mark` / `strata unmark` do: write or remove a block's marker in both places the
 * pipeline keeps it (next to the block, and mirrored to `<tenant>/markers/<ULID>-<file>`, as
 * Mimir's `mark-blocks` does; Strata mirrors no-downsample marks too), in Thanos' format, and
 * keep the bucket index's deletion marks in step in the same call.
 *
 * Safety: a deletion mark is refused on the last copy of a range — a block no other live,
 * indexed (so verified) block covers by the planner's own rule (`findCoveringBlock`) — unless
 * forced. A mark already there is left alone (idempotent) unless what the operator asked for
 * (reason, details) differs from it; then it is reported, and replaced only when forced.
 */
import {
  DELETION_MARK_FILE,
  FormatError,
  MARKER_VERSION_1,
  MAX_MARKER_BYTES,
  NO_COMPACT_MARK_FILE,
  NO_DOWNSAMPLE_MARK_FILE,
  NoCompactReason,
  blockResolution,
  parseMarker,
  resolutionName,
  serializeMarker,
  type BlockMeta,
  type MarkerFile,
  type MarkerTypes,
  type NoCompactMark,
} from "@strata/tsdb";
import {
  BucketIndexInvalidError,
  BucketIndexUpdater,
  GLOBAL_MARKERS,
  deleteMarker,
  getCapped,
  tenantName,
  writeMarker,
  type ObjectStore,
} from "@strata/bucket";
import { pipelineLayout } from "./bindings/index.ts";
import { findCoveringBlock } from "./blocks.ts";
import { QUARANTINE_REASON } from "./jobs/admit.ts";
import { scanBlocks, type BlockMarks, type ScannedBlock } from "./list-blocks.ts";
import type { LiveBlock } from "./ports.ts";

export const MARK_KINDS = {
  deletion: DELETION_MARK_FILE,
  "no-compact": NO_COMPACT_MARK_FILE,
  "no-downsample": NO_DOWNSAMPLE_MARK_FILE,
} as const;
export type MarkKind = keyof typeof MARK_KINDS;

export interface MarkRequest {
  /** The pipeline's tenant name (`""` for the bucket root). */
  tenant: string;
  /** Canonical (upper-case) ULIDs. */
  blocks: readonly string[];
  kind: MarkKind;
  /** No-compact and no-downsample marks only (default `manual`, Thanos' reason for a person's mark). */
  reason?: string;
  details?: string;
  /** Report what would be written, write nothing. */
  dryRun?: boolean;
  /** Mark the last copy of a range, a block without meta.json, or over a different mark; unmark a quarantine. */
  force?: boolean;
  now?: () => number;
}

export type MarkStatus =
  | "marked"
  | "replaced"
  | "would-mark"
  | "already-marked"
  | "differs"
  | "refused"
  | "not-found"
  | "unmarked"
  | "would-unmark"
  | "not-marked";

export interface MarkOutcome {
  block: string;
  status: MarkStatus;
  /** False for the outcomes that are bad input (the CLI's exit 1). */
  ok: boolean;
  /** One line for a person. */
  message: string;
  /** Keys written or removed (or that would be). */
  keys: string[];
}

type Index = "updated" | "no-index" | "unreadable" | "unchanged";

const outcome = (block: string, status: MarkStatus, ok: boolean, message: string, keys: string[] = []) => ({
  block,
  status,
  ok,
  message,
  keys,
});

function notFound(store: ObjectStore, tenant: string, block: string): MarkOutcome {
  const where = `${store.url}/${pipelineLayout().blockPrefix(tenant, block)}`;
  return outcome(
    block,
    "not-found",
    false,
    `no such block in tenant ${quote(tenantName(tenant))} (nothing under ${where})`,
  );
}

/** Write `kind` marks on each block (in order; earlier deletions count when checking later blocks' coverage). */
export async function markBlocks(store: ObjectStore, req: MarkRequest): Promise<MarkOutcome[]> {
  const layout = pipelineLayout();
  const file = MARK_KINDS[req.kind];
  const now = Math.floor((req.now ?? Date.now)() / 1000);
  // Only a deletion needs every block of the tenant (to find one that covers it).
  const only = req.kind === "deletion" ? undefined : new Set(req.blocks);
  const scan = await scanBlocks(store, { tenant: req.tenant, only });
  const byId = new Map(scan.blocks.map((b) => [b.row.block, b]));
  const deletedNow = new Set<string>();
  const out: MarkOutcome[] = [];
  for (const block of req.blocks) {
    const keys = [layout.blockFile(req.tenant, block, file), layout.globalMarkerKey(req.tenant, block, file)];
    const r = (status: MarkStatus, ok: boolean, message: string, k: string[] = []) =>
      outcome(block, status, ok, message, k);
    const b = byId.get(block);
    if (!b) {
      out.push(notFound(store, req.tenant, block));
      continue;
    }
    if (b.row.problem?.startsWith("no meta.json") && !req.force) {
      out.push(r("refused", false, `${b.row.problem}; --force marks it anyway`));
      continue;
    }
    const existing = existingMark(b.row.marks, req.kind);
    const wanted = wantedMark(req, block, now);
    if (existing) {
      const diff = difference(existing, req);
      if (!diff) {
        const fixed = req.dryRun ? "" : await ensureMirror(store, keys);
        const idx =
          req.kind === "deletion" && !req.dryRun ? await indexMark(store, req.tenant, block, existing) : "unchanged";
        out.push(r("already-marked", true, `already has ${describe(file, existing)}${fixed}${indexNote(idx)}`));
        if (req.kind === "deletion") deletedNow.add(block);
        continue;
      }
      if (!req.force) {
        out.push(
          r("differs", false, `already has ${describe(file, existing)}, which differs (${diff}); --force replaces it`),
        );
        continue;
      }
    }
    if (req.kind === "deletion" && !req.force) {
      const refusal = lastCopy(b, scan.blocks, deletedNow);
      if (refusal) {
        out.push(r("refused", false, `${refusal}; --force marks it anyway`));
        continue;
      }
    }
    const what = describe(file, wanted);
    if (req.dryRun) {
      const idx = req.kind === "deletion" ? ", and the bucket index's deletion mark" : "";
      out.push(r("would-mark", true, `would write ${what} to ${keys.join(" and ")}${idx}`, keys));
      continue;
    }
    await writeMarker(store, layout, req.tenant, block, file, wanted);
    if (!GLOBAL_MARKERS.includes(file))
      await store.put(keys[1]!, serializeMarker(file, wanted), { contentType: "application/json" });
    const idx =
      req.kind === "deletion"
        ? await indexMark(store, req.tenant, block, { deletion_time: now }, !!existing)
        : "unchanged";
    if (req.kind === "deletion") deletedNow.add(block);
    out.push(
      r(
        existing ? "replaced" : "marked",
        true,
        `${existing ? "replaced with" : "wrote"} ${what}${indexNote(idx)}`,
        keys,
      ),
    );
  }
  return out;
}

/** Remove `kind` marks (both copies) from each block; a deletion mark leaves the bucket index too. */
export async function unmarkBlocks(
  store: ObjectStore,
  req: Omit<MarkRequest, "reason" | "details" | "now">,
): Promise<MarkOutcome[]> {
  const layout = pipelineLayout();
  const file = MARK_KINDS[req.kind];
  const out: MarkOutcome[] = [];
  for (const block of req.blocks) {
    const local = layout.blockFile(req.tenant, block, file);
    const mirror = layout.globalMarkerKey(req.tenant, block, file);
    const r = (status: MarkStatus, ok: boolean, message: string, keys: string[] = []) =>
      outcome(block, status, ok, message, keys);
    const [hl, hm] = await Promise.all([store.head(local), store.head(mirror)]);
    const present = [hl && local, hm && mirror].filter((k): k is string => !!k);
    const metaKey = layout.metaKey(req.tenant, block);
    if (present.length === 0) {
      const any = (await store.list(layout.blockPrefix(req.tenant, block), { maxKeys: 1 })).objects.length > 0;
      out.push(any ? r("not-marked", true, `has no ${file}; nothing to remove`) : notFound(store, req.tenant, block));
      continue;
    }
    if (!req.force && file === NO_COMPACT_MARK_FILE && hl) {
      if ((await readNoCompact(store, local))?.reason === QUARANTINE_REASON) {
        out.push(
          r(
            "refused",
            false,
            `is quarantined (no-compact reason ${QUARANTINE_REASON}): \`strata quarantine release\` verifies it again and lifts the quarantine; --force removes the mark anyway`,
          ),
        );
        continue;
      }
    }
    if (!req.force && file === DELETION_MARK_FILE && !(await store.head(metaKey))) {
      out.push(
        r(
          "refused",
          false,
          "its meta.json is gone (the deletion is under way): unmarking cannot bring it back; --force removes the mark anyway",
        ),
      );
      continue;
    }
    if (req.dryRun) {
      const idx = file === DELETION_MARK_FILE ? ", and its deletion mark from the bucket index" : "";
      out.push(r("would-unmark", true, `would remove ${present.join(" and ")}${idx}`, present));
      continue;
    }
    await deleteMarker(store, layout, req.tenant, block, file);
    if (!GLOBAL_MARKERS.includes(file)) await store.delete(mirror);
    const idx = file === DELETION_MARK_FILE ? await indexUnmark(store, req.tenant, block) : "unchanged";
    out.push(r("unmarked", true, `removed ${present.join(" and ")}${indexNote(idx)}`, present));
  }
  return out;
}

async function readNoCompact(store: ObjectStore, key: string): Promise<NoCompactMark | undefined> {
  const r = await getCapped(store, key, MAX_MARKER_BYTES);
  if (!r || r.truncated) return undefined;
  try {
    return parseMarker(NO_COMPACT_MARK_FILE, r.body);
  } catch (e) {
    if (e instanceof FormatError) return undefined; // unreadable: not a quarantine the pipeline wrote
    throw e;
  }
}

type AnyMark = MarkerTypes[MarkerFile];

function existingMark(
  marks: BlockMarks,
  kind: MarkKind,
): { reason?: string; details?: string; time: number; unreadable?: string } | undefined {
  const file = MARK_KINDS[kind];
  const bad = marks.unreadable?.find((u) => u.file === file);
  if (bad) return { time: 0, unreadable: bad.problem };
  if (kind === "deletion") return marks.deletion;
  return kind === "no-compact" ? marks.noCompact : marks.noDownsample;
}

function wantedMark(req: MarkRequest, id: string, now: number): AnyMark {
  const details = req.details ? { details: req.details } : {};
  const reason = req.reason ?? NoCompactReason.Manual;
  if (req.kind === "deletion") return { id, version: MARKER_VERSION_1, ...details, deletion_time: now };
  if (req.kind === "no-compact") return { id, version: MARKER_VERSION_1, ...details, no_compact_time: now, reason };
  return { id, version: MARKER_VERSION_1, ...details, no_downsample_time: now, reason };
}

/** What differs between a mark and the request, in the fields the operator gave (times never count). */
function difference(
  m: { reason?: string; details?: string; unreadable?: string },
  req: MarkRequest,
): string | undefined {
  if (m.unreadable !== undefined) return `it does not parse: ${m.unreadable}`;
  const d: string[] = [];
  if (req.reason !== undefined && m.reason !== req.reason)
    d.push(`reason ${quote(m.reason ?? "")}, asked ${quote(req.reason)}`);
  if (req.details !== undefined && (m.details ?? "") !== req.details)
    d.push(`details ${quote(m.details ?? "")}, asked ${quote(req.details)}`);
  return d.length ? d.join("; ") : undefined;
}

function describe(
  file: MarkerFile,
  m: { reason?: string; details?: string; unreadable?: string } & Partial<Record<"deletion_time" | "time", number>>,
): string {
  if (m.unreadable !== undefined) return `an unreadable ${file}`;
  const parts: string[] = [];
  if (m.reason) parts.push(`reason ${quote(m.reason)}`);
  if (m.details) parts.push(`details ${quote(m.details)}`);
  const t = m.time ?? (m as { deletion_time?: number }).deletion_time;
  if (file === DELETION_MARK_FILE && t !== undefined) parts.push(`deletion time ${new Date(t * 1000).toISOString()}`);
  return parts.length ? `${file} (${parts.join(", ")})` : file;
}

/**
 * Why marking `b` for deletion would drop the last copy of its data, or undefined when another
 * live, indexed block of its group holds its whole range and sources (`findCoveringBlock`).
 */
function lastCopy(b: ScannedBlock, all: readonly ScannedBlock[], deletedNow: ReadonlySet<string>): string | undefined {
  const { row, meta } = b;
  if (!meta)
    return `${row.problem ?? "no usable meta.json"}, so no other block can be shown to hold its data (last copy)`;
  const live: LiveBlock[] = all
    .filter(
      (x) =>
        x.meta && x.row.indexed && !x.row.marks.deletion && !x.row.marks.quarantine && !deletedNow.has(x.row.block),
    )
    .map((x) => ({ meta: x.meta! }));
  const cover = findCoveringBlock(live, [meta]);
  if (cover) return undefined;
  return `last copy of ${range(meta)} (${resolutionName(blockResolution(meta))}, ${labelText(meta)}): no other live, verified, indexed block holds its data`;
}

function range(m: BlockMeta): string {
  const t = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, "Z");
  return `${t(m.minTime)}..${t(m.maxTime)}`;
}

function labelText(m: BlockMeta): string {
  const l = Object.entries(m.thanos?.labels ?? {});
  return l.length ? `{${l.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(",")}}` : "no external labels";
}

/** The mirror carries the block's mark (the pipeline's rule: the copy next to the block wins). */
async function ensureMirror(store: ObjectStore, [local, mirror]: string[]): Promise<string> {
  const [a, b] = await Promise.all([
    getCapped(store, local!, MAX_MARKER_BYTES),
    getCapped(store, mirror!, MAX_MARKER_BYTES),
  ]);
  if (!a || a.truncated || (b && Buffer.compare(a.body, b.body) === 0)) return "";
  await store.put(mirror!, a.body, { contentType: "application/json" });
  return "; its copy under markers/ was missing or different and is restored";
}

/** Record (or, `replace`, re-record) a deletion mark in the index; only an index that exists is written. */
async function indexMark(
  store: ObjectStore,
  tenant: string,
  block: string,
  m: { time?: number; deletion_time?: number },
  replace = false,
): Promise<Index> {
  const time = m.deletion_time ?? m.time ?? 0;
  return withIndex(store, tenant, async (u) => {
    if (!replace)
      return (await u.addDeletionMark(tenant, block, { id: block, version: MARKER_VERSION_1, deletion_time: time }))
        .changed;
    return (
      await u.update(tenant, (idx) => {
        idx.block_deletion_marks = idx.block_deletion_marks.filter((x) => x.block_id !== block);
        idx.block_deletion_marks.push({ block_id: block, deletion_time: time });
        return true;
      })
    ).changed;
  });
}

async function indexUnmark(store: ObjectStore, tenant: string, block: string): Promise<Index> {
  return withIndex(
    store,
    tenant,
    async (u) =>
      (
        await u.update(tenant, (idx) => {
          const n = idx.block_deletion_marks.length;
          idx.block_deletion_marks = idx.block_deletion_marks.filter((x) => x.block_id !== block);
          return idx.block_deletion_marks.length !== n;
        })
      ).changed,
  );
}

async function withIndex(
  store: ObjectStore,
  tenant: string,
  fn: (u: BucketIndexUpdater) => Promise<boolean>,
): Promise<Index> {
  const u = new BucketIndexUpdater(store, { layout: pipelineLayout() });
  try {
    if (!(await u.read(tenant))) return "no-index";
    return (await fn(u)) ? "updated" : "unchanged";
  } catch (e) {
    if (e instanceof BucketIndexInvalidError) return "unreadable";
    throw e;
  }
}

function indexNote(i: Index): string {
  if (i === "updated") return "; bucket index updated";
  if (i === "no-index") return "; the tenant has no bucket index yet (the next index-sync reads the mark)";
  if (i === "unreadable") return "; the bucket index is unreadable and was not updated (run `strata index rebuild`)";
  return "";
}

function quote(s: string): string {
  return JSON.stringify(s);
}
