import type { BlockSink } from "../encoding/source.ts";
import { reencodeChunk, type SampleFilter } from "../chunkenc/reencode.ts";
import { isDeleted } from "../tombstones/tombstones.ts";
import { newUlid } from "../meta/ulid.ts";
import { copiedSources, type BlockMeta } from "../meta/meta.ts";
import type { BlockReader } from "./reader.ts";
import { BlockWriter, type ChunkToWrite, type WrittenBlock } from "./writer.ts";

export interface RewriteOptions {
  /** Decode and encode every chunk again (default: copy chunk bytes as they are). */
  reencode?: boolean;
  ulid?: string;
  segmentSize?: number;
}

/**
 * Write a block anew: same series and samples, a new ULID, tombstones applied (deleted
 * samples removed and the new block's tombstones empty, as Prometheus' compactor does).
 * Chunks untouched by tombstones are copied byte for byte unless `reencode` is set.
 */
export async function rewriteBlock(
  src: BlockReader,
  sink: BlockSink,
  opts: RewriteOptions = {},
): Promise<WrittenBlock> {
  const writer = new BlockWriter(sink, { segmentSize: opts.segmentSize });
  await writer.addSymbols(src.index.symbols);
  const out: ChunkToWrite[] = [];
  for await (const s of src.series()) {
    out.length = 0;
    const deleted = s.deleted;
    const keep: SampleFilter | undefined = deleted?.length ? (t) => !isDeleted(deleted, t) : undefined;
    for (const c of s.chunks) {
      const chunk = c.chunk!;
      const touched = keep !== undefined && deleted!.some((iv) => iv.mint <= c.maxTime && iv.maxt >= c.minTime);
      if (!opts.reencode && !touched) {
        out.push({ minTime: c.minTime, maxTime: c.maxTime, chunk });
        continue;
      }
      const r = reencodeChunk(chunk, touched ? keep : undefined);
      if (!r) continue;
      out.push({
        minTime: Number.isNaN(r.minTime) ? c.minTime : r.minTime,
        maxTime: Number.isNaN(r.maxTime) ? c.maxTime : r.maxTime,
        chunk: r.chunk,
      });
    }
    await writer.addSeries(s.labels, out);
  }
  const ulid = opts.ulid ?? newUlid();
  const meta: BlockMeta = {
    ...src.meta,
    ulid,
    compaction: { ...src.meta.compaction, sources: copiedSources(src.meta, ulid) },
  };
  if (meta.thanos) meta.thanos = { ...meta.thanos, source: "bucket.rewrite" };
  return writer.finish(meta);
}
