/**
 * The scale bench's input, cached on disk: three 2h blocks of node-exporter-like series at
 * 15 s (aligned to 6h, so they are one triple for both compactors) and a tiny fourth block
 * after them, which Prometheus holds back as "just cut from its head" so that it compacts
 * the three. Kept under the temp dir keyed by the parameters and reused when complete
 * (1M series is ~6.8 GB and minutes to write): `STRATA_SCALE_CACHE` moves it.
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeBenchBlocks } from "./generate.ts";

const H2 = 2 * 3600_000;
/** 2023-11-14T12:00Z, a multiple of 6h. */
export const SCALE_T0 = 78_703 * 3 * H2;
/** Bump when the generator's output changes, so stale caches are not reused. */
const VERSION = 1;

export interface ScaleBlocks {
  /** Holds every block (what Prometheus is given as its data directory). */
  dir: string;
  /** The three blocks compacted. */
  triple: string[];
  /** The tiny newest block Prometheus leaves alone. */
  tail: string;
}

/** The cached blocks for `series` per block, generated first when missing. */
export async function scaleBlocks(series: number, log: (s: string) => void): Promise<ScaleBlocks> {
  const root = process.env.STRATA_SCALE_CACHE ?? join(tmpdir(), "strata-scale-cache");
  const dir = join(root, `v${VERSION}-${series}-series-3x2h-15s`, "blocks");
  const done = join(dir, "..", "complete");
  if (!existsSync(done)) {
    await rm(join(dir, ".."), { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const t0 = performance.now();
    log(`generating 3 blocks of ${series} series into ${dir} (cached for later runs)`);
    await writeBenchBlocks({ dir, series, blocks: 3, t0: SCALE_T0 });
    await writeBenchBlocks({ dir, series: 10, blocks: 1, t0: SCALE_T0 + 3 * H2 });
    await writeFile(done, `${new Date().toISOString()}\n`);
    log(`generated in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  // ULIDs sort by time: the first three are the triple, the last the tail.
  const ulids = (await readdir(dir)).filter((f) => /^[0-9A-Z]{26}$/.test(f)).sort();
  if (ulids.length !== 4) throw new Error(`${dir}: expected 4 blocks, found ${ulids.length}; delete it to regenerate`);
  const paths = ulids.map((u) => join(dir, u));
  return { dir, triple: paths.slice(0, 3), tail: paths[3]! };
}
