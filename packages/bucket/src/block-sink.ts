/**
 * Writes a block into an object store (the tsdb BlockSink port): chunk segments and the index
 * stream as they are written, meta.json last.
 */
import { META_FILE, MemorySource, type BlockSink, type BlockSource, type ByteSink } from "@strata/tsdb";
import { StoreBlockSource } from "./byte-source.ts";
import { listAll, type ObjectStore, type ObjectWriter } from "./store.ts";

/**
 * Writes a new block's files into the bucket under `<prefix>`. Chunk segments and the
 * index stream to the store as they are written (multipart on S3); meta.json is held back
 * and written by `commit()` after every other file is stored, so the block becomes
 * visible only when whole. Tombstones are dropped, as on upload.
 */
export class StoreBlockSink implements BlockSink {
  readonly store: ObjectStore;
  readonly prefix: string;
  private readonly open = new Set<ObjectWriter>();
  private readonly stored: Promise<string>[] = [];
  private meta?: Uint8Array;
  private readonly partSize?: number;

  constructor(store: ObjectStore, prefix: string, opts: { partSize?: number } = {}) {
    this.store = store;
    this.prefix = prefix.endsWith("/") ? prefix : prefix + "/";
    this.partSize = opts.partSize;
  }

  async create(relPath: string): Promise<ByteSink> {
    if (relPath === META_FILE || relPath === "tombstones") {
      const parts: Uint8Array[] = [];
      return {
        write: async (b) => void parts.push(b.slice()),
        close: async () => {
          if (relPath === META_FILE) this.meta = Buffer.concat(parts);
        },
      };
    }
    const w = await this.store.createWriter(this.prefix + relPath, { partSize: this.partSize });
    this.open.add(w);
    this.stored.push(w.done);
    return {
      write: (b) => w.write(b),
      close: async () => {
        await w.close();
        this.open.delete(w);
      },
      abort: async () => {
        this.open.delete(w);
        await w.abort?.();
      },
    };
  }

  /**
   * The block as it will read once committed, before it is: the stored files, and meta.json
   * from memory. Lets a writer verify its output before making it visible (commit).
   */
  async staged(): Promise<{ source: BlockSource; meta: Uint8Array }> {
    if (this.open.size > 0)
      throw new Error(`${this.store.url}/${this.prefix}: staged with ${this.open.size} file(s) still open`);
    await Promise.all(this.stored);
    const meta = this.meta;
    if (!meta) throw new Error(`${this.store.url}/${this.prefix}: staged without a meta.json`);
    const stored = new StoreBlockSource(this.store, this.prefix);
    const source: BlockSource = {
      name: stored.name,
      tryOpen: async (rel) => (rel === META_FILE ? new MemorySource(meta) : stored.tryOpen(rel)),
      open: async (rel) => (rel === META_FILE ? new MemorySource(meta) : stored.open(rel)),
      listChunkFiles: () => stored.listChunkFiles(),
    };
    return { source, meta };
  }

  /** Stores meta.json once every other file is stored. Fails if any file is still open. */
  async commit(): Promise<void> {
    if (this.open.size > 0)
      throw new Error(`${this.store.url}/${this.prefix}: commit with ${this.open.size} file(s) still open`);
    await Promise.all(this.stored);
    if (!this.meta) throw new Error(`${this.store.url}/${this.prefix}: commit without a meta.json`);
    await this.store.put(this.prefix + META_FILE, this.meta, { contentType: "application/json" });
  }

  /** Abandons the block: aborts open uploads and deletes what was stored (meta.json never was). */
  async abort(): Promise<void> {
    for (const w of this.open) await w.abort?.();
    this.open.clear();
    await Promise.allSettled(this.stored);
    for await (const o of listAll(this.store, this.prefix)) await this.store.delete(o.key);
  }
}
