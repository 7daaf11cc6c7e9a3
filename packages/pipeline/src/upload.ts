/**
 * What `strata upload` does: put local blocks (a Prometheus data directory, a folder of
 * blocks, or one block) into a tenant of the bucket as Thanos' `upload-blocks` does — chunks,
 * index, then meta.json last (`uploadBlock` of `@strata/bucket`), so the pipeline's meta.json
 * event sees a whole block — after verifying each one locally with `@strata/verify`. A block
 * already in the bucket with the same meta.json is skipped; one with a different meta.json is
 * never overwritten. Progress is reported as events; the caller renders it.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import {
  EMPTY_TOMBSTONES,
  FormatError,
  MAX_META_BYTES,
  META_FILE,
  isUlid,
  parseMeta,
  type BlockSource,
  type ByteSource,
} from "@strata/tsdb";
import { DirBlockSource } from "@strata/tsdb/node";
import { uploadBlock, type ObjectStore } from "@strata/bucket";
import { formatProblem, verifyBlock } from "@strata/verify";
import { pipelineLayout } from "./bindings/index.ts";

export interface LocalBlock {
  dir: string;
  ulid: string;
  /** Bytes an upload sends: chunk segments, index and meta.json (tombstones are never uploaded). */
  bytes: number;
}

export interface UploadOutcome {
  block: string;
  dir: string;
  status: "uploaded" | "skipped" | "failed";
  /** False for a block that was not uploaded because something is wrong with it (the CLI's exit 1). */
  ok: boolean;
  /** One line for a person. */
  message: string;
  bytes: number;
}

export type UploadEvent =
  | { type: "verifying"; block: string }
  | { type: "uploading"; block: string }
  /** `bytes` more of the block read and sent. */
  | { type: "bytes"; block: string; bytes: number }
  | { type: "done"; outcome: UploadOutcome };

/**
 * The blocks under `dir`: `dir` itself when it holds a meta.json, else its ULID-named folders
 * (a Prometheus data directory's `wal/`, `chunks_head/` and `*.tmp-for-creation` are not
 * blocks). `only` keeps those ULIDs; a ULID folder without meta.json, or an `only` ULID not
 * found, is a problem.
 */
export async function findLocalBlocks(
  dir: string,
  only: readonly string[] = [],
): Promise<{ blocks: LocalBlock[]; problems: string[] }> {
  const problems: string[] = [];
  const dirs: string[] = [];
  if (await isFile(join(dir, META_FILE))) dirs.push(dir);
  else {
    for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (!e.isDirectory() || !isUlid(e.name)) continue;
      if (await isFile(join(dir, e.name, META_FILE))) dirs.push(join(dir, e.name));
      else problems.push(`${join(dir, e.name)}: no meta.json (an incomplete block), not uploaded`);
    }
  }
  const blocks: LocalBlock[] = [];
  for (const d of dirs) {
    const name = basename(resolve(d));
    const ulid = isUlid(name) ? name.toUpperCase() : await metaUlid(d);
    blocks.push({ dir: d, ulid, bytes: await blockBytes(d) });
  }
  const wanted = new Set(only.map((u) => u.toUpperCase()));
  for (const u of wanted)
    if (!blocks.some((b) => b.ulid === u))
      problems.push(`${dir}: no block ${u} here (no folder ${u} with a meta.json)`);
  return { blocks: wanted.size ? blocks.filter((b) => wanted.has(b.ulid)) : blocks, problems };
}

/** Upload each block in turn under `tenant` (the pipeline's name, `""` for the bucket root). */
export async function uploadBlocks(
  store: ObjectStore,
  opts: { tenant: string; blocks: readonly LocalBlock[]; verify: boolean; onEvent?: (e: UploadEvent) => void },
): Promise<UploadOutcome[]> {
  const emit = opts.onEvent ?? (() => undefined);
  const out: UploadOutcome[] = [];
  for (const b of opts.blocks) {
    const outcome = await uploadOne(store, opts.tenant, b, opts.verify, emit);
    emit({ type: "done", outcome });
    out.push(outcome);
  }
  return out;
}

async function uploadOne(
  store: ObjectStore,
  tenant: string,
  b: LocalBlock,
  verify: boolean,
  emit: (e: UploadEvent) => void,
): Promise<UploadOutcome> {
  const layout = pipelineLayout();
  const done = (status: UploadOutcome["status"], ok: boolean, message: string): UploadOutcome => ({
    block: b.ulid,
    dir: b.dir,
    status,
    ok,
    message,
    bytes: b.bytes,
  });
  const metaPath = join(b.dir, META_FILE);
  const st = await stat(metaPath);
  if (st.size > MAX_META_BYTES) return done("failed", false, `${metaPath}: ${st.size} bytes, over the meta.json limit`);
  const metaBytes = new Uint8Array(await readFile(metaPath));
  try {
    const meta = parseMeta(metaBytes, metaPath);
    if (meta.ulid !== b.ulid) return done("failed", false, `${metaPath} names block ${meta.ulid}, not its folder`);
  } catch (e) {
    if (e instanceof FormatError) return done("failed", false, e.message);
    throw e;
  }
  const tomb = await stat(join(b.dir, "tombstones")).catch(() => undefined);
  if (tomb && tomb.size > EMPTY_TOMBSTONES.length)
    return done(
      "failed",
      false,
      "has tombstones, which an upload leaves behind (as Thanos does): `strata rewrite` writes a copy with them applied",
    );
  const key = layout.metaKey(tenant, b.ulid);
  const remote = await store.head(key);
  if (remote) {
    const same =
      remote.size === metaBytes.length &&
      Buffer.compare((await store.get(key))?.body ?? new Uint8Array(), metaBytes) === 0;
    return same
      ? done("skipped", true, `already in the bucket with the same meta.json (${store.url}/${key})`)
      : done("failed", false, `${store.url}/${key} exists with a different meta.json; not overwritten`);
  }
  const src = new DirBlockSource(b.dir);
  if (verify) {
    emit({ type: "verifying", block: b.ulid });
    const report = await verifyBlock(src, { expectedUlid: b.ulid });
    if (!report.ok) {
      const bad = report.problems.filter((p) => p.severity === "reject" || p.severity === "repairable");
      const total = Object.values(report.counts).reduce((a, n) => a + (n ?? 0), 0);
      const first = bad.slice(0, 3).map((p) => formatProblem("", p).replace(/^:? ?/, ""));
      const more = total > first.length ? ` (and ${total - first.length} more)` : "";
      return done("failed", false, `fails verification, not uploaded: ${first.join("; ")}${more}`);
    }
  }
  emit({ type: "uploading", block: b.ulid });
  await uploadBlock(
    store,
    layout,
    tenant,
    b.ulid,
    counting(src, (n) => emit({ type: "bytes", block: b.ulid, bytes: n })),
  );
  return done("uploaded", true, `uploaded to ${store.url}/${layout.blockPrefix(tenant, b.ulid)}`);
}

/** The source, reporting every byte read from it (what an upload reads, it sends). */
function counting(src: BlockSource, onBytes: (n: number) => void): BlockSource {
  const wrap = (f: ByteSource): ByteSource => ({
    size: f.size,
    read: async (off, len) => {
      const r = await f.read(off, len);
      onBytes(r.length);
      return r;
    },
    close: f.close && (() => f.close!()),
  });
  return {
    name: src.name,
    open: async (rel) => wrap(await src.open(rel)),
    tryOpen: async (rel) => {
      const f = await src.tryOpen(rel);
      return f && wrap(f);
    },
    listChunkFiles: () => src.listChunkFiles(),
  };
}

async function blockBytes(dir: string): Promise<number> {
  let n = 0;
  for (const f of [META_FILE, "index"]) n += (await stat(join(dir, f)).catch(() => undefined))?.size ?? 0;
  const chunks = await readdir(join(dir, "chunks")).catch(() => [] as string[]);
  for (const c of chunks) n += (await stat(join(dir, "chunks", c))).size;
  return n;
}

async function metaUlid(dir: string): Promise<string> {
  if (!((await stat(join(dir, META_FILE))).size <= MAX_META_BYTES)) return basename(resolve(dir));
  try {
    return parseMeta(new Uint8Array(await readFile(join(dir, META_FILE))), join(dir, META_FILE)).ulid;
  } catch (e) {
    if (e instanceof FormatError) return basename(resolve(dir)); // reported when it is uploaded
    throw e;
  }
}

async function isFile(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isFile() ?? false;
}
