// Uploads as the world really makes them, and a watch on the bucket index while they settle:
// meta.json before the block's other files (`aws s3 cp --recursive` order), blocks copied
// with a meta.json that lies, a gzip bomb where a bucket index should be, and a poller that
// checks, at every step, that the index lists no block a verify has not passed.
import { cp, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createGzip } from "node:zlib";
import { BucketLayout, listAll, type ObjectStore } from "@strata/bucket";
import { BucketIndexUpdater } from "@strata/bucket";
import { newUlid, parseMeta, serializeMeta, type BlockMeta } from "@strata/tsdb";
import { VERIFIED_FILE } from "@strata/pipeline";

const layout = new BucketLayout();

/**
 * Uploads a block directory meta.json first, then its chunks, then its index (the index last: the block reads as
 * incomplete until then).
 */
export async function uploadMetaFirst(
  store: ObjectStore,
  tenant: string,
  dir: string,
  between?: () => Promise<void>,
): Promise<void> {
  const meta = parseMeta(await readFile(join(dir, "meta.json")));
  await store.put(layout.metaKey(tenant, meta.ulid), await readFile(join(dir, "meta.json")));
  await between?.();
  for (const f of (await readdir(join(dir, "chunks"))).sort())
    await store.put(layout.blockFile(tenant, meta.ulid, `chunks/${f}`), await readFile(join(dir, "chunks", f)));
  await store.put(layout.blockFile(tenant, meta.ulid, "index"), await readFile(join(dir, "index")));
}

/** Uploads a block directory in the safe order (chunks, index, meta.json last) under any key prefix. */
export async function uploadUnder(store: ObjectStore, prefix: string, dir: string): Promise<void> {
  for (const f of (await readdir(join(dir, "chunks"))).sort())
    await putFile(store, `${prefix}chunks/${f}`, join(dir, "chunks", f));
  await putFile(store, `${prefix}index`, join(dir, "index"));
  await putFile(store, `${prefix}meta.json`, join(dir, "meta.json"));
}

/** One object from a file; past 8 MiB as a multipart upload (the emulator refuses larger single PUTs). */
async function putFile(store: ObjectStore, key: string, file: string): Promise<void> {
  const body = await readFile(file);
  if (body.length <= 8 << 20) {
    await store.put(key, body);
    return;
  }
  const w = await store.createWriter(key, { partSize: 8 << 20 });
  await w.write(body);
  await w.close();
}

/**
 * A copy of a block's data under a new ULID whose meta.json says what `lie` makes of it;
 * `pad` bytes of trailing whitespace make the meta.json that large (still valid JSON).
 */
export async function copyWithMeta(
  src: string,
  destRoot: string,
  seed: number,
  lie: (m: BlockMeta, ulid: string) => BlockMeta,
  pad = 0,
): Promise<{ dir: string; meta: BlockMeta }> {
  const meta = parseMeta(await readFile(join(src, "meta.json")));
  const ulid = newUlid(meta.maxTime, new Uint8Array(10).fill(seed));
  const dir = join(destRoot, ulid);
  await cp(join(src, "chunks"), join(dir, "chunks"), { recursive: true });
  await cp(join(src, "index"), join(dir, "index"));
  const lied = lie({ ...meta, ulid, compaction: { ...meta.compaction, sources: [ulid] } }, ulid);
  await writeFile(join(dir, "meta.json"), serializeMeta(lied, { style: "thanos" }) + " ".repeat(pad));
  return { dir, meta: lied };
}

/** A gzip stream of `mib` MiB of zeros: a few hundred KiB that inflate past any sane index. */
export async function gzipBomb(mib: number): Promise<Uint8Array> {
  const gz = createGzip({ level: 9 });
  const parts: Buffer[] = [];
  gz.on("data", (b: Buffer) => parts.push(b));
  const done = new Promise((r) => gz.on("end", r));
  const zeros = Buffer.alloc(1 << 20);
  for (let i = 0; i < mib; i++) if (!gz.write(zeros)) await new Promise((r) => gz.once("drain", r));
  gz.end();
  await done;
  return Buffer.concat(parts);
}

/**
 * Polls the tenants' bucket indexes until stopped and records every indexed block that has no
 * verification record in the bucket (admission writes the record before the index entry), and
 * every indexed block in `never`. An index that cannot be read is counted, not a violation.
 */
export class IndexWatch {
  readonly violations: string[] = [];
  rounds = 0;
  unreadable = 0;
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(store: ObjectStore, tenants: readonly string[], never: ReadonlySet<string> = new Set(), everyMs = 150) {
    const updater = new BucketIndexUpdater(store, { layout });
    this.loop = (async () => {
      while (!this.stopped) {
        for (const t of tenants) {
          let idx;
          try {
            idx = await updater.read(t);
          } catch {
            this.unreadable++;
            continue;
          }
          if (!idx) continue;
          const verified = new Set<string>();
          for await (const o of listAll(store, layout.tenantPrefix(t)))
            if (o.key.endsWith("/" + VERIFIED_FILE)) verified.add(o.key.split("/").at(-2)!);
          for (const b of idx.index.blocks) {
            if (!verified.has(b.block_id))
              this.violations.push(`${t}/${b.block_id}: indexed without a verification record (round ${this.rounds})`);
            if (never.has(b.block_id))
              this.violations.push(`${t}/${b.block_id}: a bad block was indexed (round ${this.rounds})`);
          }
        }
        this.rounds++;
        await new Promise((r) => setTimeout(r, everyMs));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}
