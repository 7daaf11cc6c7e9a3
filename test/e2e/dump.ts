// Reading samples back the way Prometheus does: blocks are downloaded from the bucket into a
// throwaway TSDB directory and dumped with `promtool tsdb dump`, whose querier merges every
// block (overlapping ones sample by sample), so one call per tenant covers all of its blocks.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { BucketLayout, listAll, mustGet, type ObjectStore } from "@strata/bucket";
import { PROMTOOL, splitLines } from "@strata/testkit/promtool";
import { runProcess } from "@strata/testkit/process";
import { TempDirs, hardLinkTree } from "@strata/testkit/tmp";

/** `promtool tsdb dump` over a database made of the given block directories (hard-linked, never modified). */
export async function promtoolDumpDb(blockDirs: readonly string[]): Promise<string[]> {
  const tmp = new TempDirs();
  try {
    const db = await tmp.make("e2e-db");
    for (const d of blockDirs) await hardLinkTree(d, join(db, d.slice(d.lastIndexOf("/") + 1)));
    await mkdir(join(db, "wal")); // dump refuses a database without one
    const r = await runProcess(PROMTOOL, ["tsdb", "dump", db]);
    if (r.code !== 0) throw new Error(`promtool tsdb dump failed (exit ${r.code ?? r.signal}):\n${r.stderr.trim()}`);
    return splitLines(r.stdout);
  } finally {
    await tmp.cleanup();
  }
}

/** Copies `<tenant>/<ULID>/…` of each block into `<dest>/<ULID>/…`; returns the block directories. */
export async function downloadBlocks(
  store: ObjectStore,
  tenant: string,
  ulids: readonly string[],
  dest: string,
): Promise<string[]> {
  const layout = new BucketLayout();
  const dirs: string[] = [];
  for (const id of ulids) {
    const prefix = layout.blockPrefix(tenant, id);
    const dir = join(dest, id);
    for await (const o of listAll(store, prefix)) {
      const rel = o.key.slice(prefix.length);
      // Only the block's own files: markers and reports are not part of a TSDB block.
      if (rel !== "meta.json" && rel !== "index" && !rel.startsWith("chunks/")) continue;
      const file = join(dir, rel);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, (await mustGet(store, o.key)).body);
    }
    dirs.push(dir);
  }
  return dirs;
}
