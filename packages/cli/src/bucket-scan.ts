// What `strata plan` plans from: every block of a bucket (or of one tenant) with its meta.json,
// its marks and its index size, read from a local directory or from a bucket URL by one walk
// over the bucket's key grammar (@strata/bucket keys.ts). Everything read is hostile: sizes are
// checked before a meta.json or a marker is read, and a block that cannot be planned is a
// `skipped` row with why, never an error.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  DELETION_MARK_FILE,
  MAX_MARKER_BYTES,
  MAX_META_BYTES,
  META_FILE,
  NO_COMPACT_MARK_FILE,
  isUlid,
  parseMarker,
  parseMeta,
} from "@strata/tsdb";
import {
  RESERVED_TENANT_NAMES,
  ROOT_TENANT,
  UnknownTenantError,
  listAll,
  listPrefixes,
  parseBlockKey,
  type ObjectStore,
} from "@strata/bucket";
import type { BlockMetaWithMarks, SkippedBlock } from "@strata/compact";

/** What `strata plan` found in a bucket before planning. */
export interface ScannedBucket {
  blocks: BlockMetaWithMarks[];
  /** Block folders that are not plannable blocks (no or bad meta.json), with why. */
  skipped: (SkippedBlock & { tenant: string; dir: string })[];
  /** Unreadable markers (treated as absent, as Thanos does), folders not read. */
  warnings: string[];
}

/** A bucket as the walk sees it: folders and files by slash-separated path ("" is the root). */
export interface BucketTree {
  /** Names of the folders directly in `path`, sorted. */
  folders(path: string): Promise<string[]>;
  /** The files directly in `path` with their sizes. */
  files(path: string): Promise<Map<string, number>>;
  read(path: string): Promise<Uint8Array>;
  /** How messages name `path`. */
  show(path: string): string;
}

/** Blocks read at once (a listing and a GET or two each). */
const CONCURRENCY = 16;

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A local directory bucket; an empty folder is still a folder (a partial upload shows). */
export function dirTree(root: string): BucketTree {
  const abs = (path: string) => (path ? join(root, ...path.split("/")) : root);
  return {
    async folders(path) {
      const es = await readdir(abs(path), { withFileTypes: true });
      return es
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort(byName);
    },
    async files(path) {
      const out = new Map<string, number>();
      for (const e of await readdir(abs(path), { withFileTypes: true })) {
        if (!e.isFile()) continue;
        const st = await stat(join(abs(path), e.name)).catch(() => undefined);
        if (st?.isFile()) out.set(e.name, st.size);
      }
      return out;
    },
    read: (path) => readFile(abs(path)),
    show: (path) => abs(path),
  };
}

/** A bucket in an object store (listings with "/" as delimiter, GETs). */
export function storeTree(store: ObjectStore, bucketUrl: string): BucketTree {
  const dir = (path: string) => (path ? path + "/" : "");
  return {
    async folders(path) {
      const p = dir(path);
      return (await listPrefixes(store, p)).map((f) => f.slice(p.length, -1)).sort(byName);
    },
    async files(path) {
      const out = new Map<string, number>();
      for await (const o of listAll(store, dir(path), { delimiter: "/" }))
        out.set(o.key.slice(dir(path).length), o.size);
      return out;
    },
    async read(path) {
      const r = await store.get(path);
      if (!r) throw Object.assign(new Error(`${bucketUrl}/${path}: gone while read`), { code: "ENOENT" });
      return r.body;
    },
    show: (path) => `${bucketUrl}/${path}`,
  };
}

/**
 * Reads a bucket: `<ULID>/` blocks at the top (the root tenant), or `<tenant>/<ULID>/`, by the
 * bucket's key grammar: a top-level ULID folder holding ULID folders is a (ULID-shaped, so
 * invalid) tenant, not a root block; folders that are no valid tenant are not read (a
 * warning names them, except the ones Strata writes itself: `markers/`, `leases/`, hidden
 * folders). `tenant` (ROOT_TENANT for the root) reads that tenant only: UnknownTenantError
 * when it has no block folder.
 */
export async function scanTree(
  tree: BucketTree,
  opts: { tenant?: string; bucketUrl?: string } = {},
): Promise<ScannedBucket> {
  const out: ScannedBucket = { blocks: [], skipped: [], warnings: [] };
  const found: { path: string; name: string; tenant: string }[] = [];
  for (const top of await tree.folders("")) {
    // With a tenant, list only the folders that can hold its blocks.
    if (opts.tenant !== undefined && (opts.tenant === ROOT_TENANT ? !isUlid(top) : top !== opts.tenant)) continue;
    const children = await tree.folders(top);
    const ulidChild = children.find(isUlid);
    if (!ulidChild) {
      // A root block (`<ULID>/<file…>`); any other folder without block folders has nothing to plan.
      if (isUlid(top)) found.push({ path: top, name: top, tenant: ROOT_TENANT });
      continue;
    }
    if (opts.tenant === ROOT_TENANT) continue;
    // A folder of block folders: a tenant, if the key grammar takes its blocks' keys.
    const probe = parseBlockKey(`${top}/${ulidChild}/${META_FILE}`, ROOT_TENANT);
    if ("reason" in probe) {
      if (!top.startsWith(".") && !RESERVED_TENANT_NAMES.includes(top))
        out.warnings.push(`${tree.show(top)}: not read: ${probe.reason}`);
      continue;
    }
    for (const b of children) if (isUlid(b)) found.push({ path: `${top}/${b}`, name: b, tenant: top });
  }
  if (opts.tenant !== undefined && found.length === 0)
    throw new UnknownTenantError(opts.bucketUrl ?? tree.show(""), opts.tenant, { why: "no block folders under it" });
  // Read in parallel, reported in walk order.
  const results: ((o: ScannedBucket) => void)[] = new Array(found.length);
  let next = 0;
  const worker = async () => {
    while (next < found.length) {
      const i = next++;
      const f = found[i]!;
      results[i] = await scanBlock(tree, f.path, f.name, f.tenant);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, found.length) }, worker));
  for (const add of results) add(out);
  return out;
}

/** One block folder, read; the result adds it to the scan (as a block, a skipped folder, warnings). */
async function scanBlock(
  tree: BucketTree,
  path: string,
  name: string,
  tenant: string,
): Promise<(out: ScannedBucket) => void> {
  const ulid = name.toUpperCase();
  const dir = tree.show(path);
  const skip = (reason: string) => (out: ScannedBucket) => void out.skipped.push({ ulid, tenant, dir, reason });
  const files = await tree.files(path);
  const metaSize = files.get(META_FILE);
  if (metaSize === undefined) return skip("no meta.json (partial upload)");
  if (metaSize > MAX_META_BYTES)
    return skip(`unreadable meta.json: ${metaSize} bytes, more than a meta.json may have (${MAX_META_BYTES})`);
  const text = await readIfThere(tree, `${path}/${META_FILE}`);
  if (!text) return skip("no meta.json (partial upload)");
  let meta;
  try {
    meta = parseMeta(text, tree.show(`${path}/${META_FILE}`));
  } catch (e) {
    return skip(`unreadable meta.json: ${(e as Error).message}`);
  }
  if (meta.ulid !== ulid) return skip(`meta.json names block ${meta.ulid}, not its directory`);
  const block: BlockMetaWithMarks = { meta, tenant };
  const warnings: string[] = [];
  for (const [file, flag] of [
    [NO_COMPACT_MARK_FILE, "noCompact"],
    [DELETION_MARK_FILE, "deletionMarked"],
  ] as const) {
    const size = files.get(file);
    if (size === undefined) continue;
    const where = tree.show(`${path}/${file}`);
    if (size > MAX_MARKER_BYTES) {
      warnings.push(`${where}: ignored: ${size} bytes, more than a marker may have (${MAX_MARKER_BYTES})`);
      continue;
    }
    const mark = await readIfThere(tree, `${path}/${file}`);
    if (!mark) continue;
    try {
      parseMarker(file, mark);
      block[flag] = true;
    } catch (e) {
      warnings.push(`${where}: ignored: ${(e as Error).message}`);
    }
  }
  const indexBytes = files.get("index");
  if (indexBytes !== undefined) block.indexBytes = indexBytes;
  return (out) => {
    out.warnings.push(...warnings);
    out.blocks.push(block);
  };
}

/**
 * A file's bytes, or undefined when it went away since it was listed; other errors are not the bucket's content and
 * propagate.
 */
async function readIfThere(tree: BucketTree, path: string): Promise<Uint8Array | undefined> {
  try {
    return await tree.read(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}
