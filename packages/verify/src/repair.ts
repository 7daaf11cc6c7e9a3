/**
 * repairBlock: writes a NEW block with the repairable problems fixed, as Thanos'
 * block.Repair does: chunks sorted by time, chunks wholly outside the block's range
 * (including issue-347 ones) and exact duplicate chunks dropped, labels re-sorted,
 * adjacent duplicate series dropped (first kept), the index (postings, stats, Thanos file
 * list) rebuilt from the series section. Tombstones are applied, as a compaction would.
 * The source block is only read.
 */
import {
  BlockWriter,
  compareLabels,
  compareStrings,
  RESOLUTION_RAW,
  blockResolution,
  copiedSources,
  isDeleted,
  newUlid,
  readMeta,
  readTombstones,
  reencodeChunk,
  type BlockMeta,
  type BlockSink,
  type BlockSource,
  type ChunkToWrite,
  type Label,
  type WrittenBlock,
} from "@strata/tsdb";
import { readIndexHead } from "./index-head.ts";
import { VerifyError } from "./errors.ts";
import { Problems, type Problem, type VerifyReport } from "./report.ts";
import { Segments } from "./segments.ts";
import { classifyChunk, labelsOf, planChunkOrder } from "./series-check.ts";
import { scanSeries } from "./series-scan.ts";
import { verifyBlock } from "./verify.ts";

/** The block has problems repair does not fix; `problems` are the ones that stopped it. */
export class NotRepairableError extends VerifyError {
  override name = "NotRepairableError";
  readonly problems: Problem[];
  constructor(message: string, problems: Problem[] = [], options?: ErrorOptions) {
    super(message, options);
    this.problems = problems;
  }
}

export interface RepairOptions {
  /** ULID of the new block (default: a fresh one). */
  ulid?: string;
  segmentSize?: number;
}

export async function repairBlock(
  source: BlockSource,
  sink: BlockSink,
  report?: VerifyReport,
  opts: RepairOptions = {},
): Promise<WrittenBlock> {
  report ??= await verifyBlock(source);
  const blocking = report.problems.filter((p) => p.severity === "reject");
  if (blocking.length > 0) {
    const codes = [...new Set(blocking.map((p) => p.code))].join(", ");
    throw new NotRepairableError(`${source.name}: not repairable (${codes})`, blocking);
  }
  const meta = await readMeta(source);
  if (blockResolution(meta) > RESOLUTION_RAW)
    throw new NotRepairableError(`${source.name}: cannot repair a downsampled block`);

  const silent = new Problems(0);
  const indexSrc = await source.open("index");
  const segs = await Segments.open(source, silent);
  try {
    const head = await readIndexHead(indexSrc, silent);
    if (!head) throw new NotRepairableError(`${source.name}: index unreadable`);
    const tombstones = await readTombstones(source);
    const writer = new BlockWriter(sink, { segmentSize: opts.segmentSize });
    await writer.addSymbols(head.symbols);
    let prev: Label[] | undefined;
    const out: ChunkToWrite[] = [];
    let crcs = new Float64Array(16);
    let lens = new Float64Array(16);
    for await (const s of scanSeries(head, silent, { intact: true })) {
      const labels = labelsOf(head, s).sort((a, b) => compareStrings(a.name, b.name));
      if (prev) {
        const c = compareLabels(prev, labels);
        if (c === 0) continue; // duplicate series: keep the first, as Thanos does
        if (c > 0)
          throw new NotRepairableError(`${source.name}: series ${s.id} out of order even after sorting its labels`);
      }
      // Read every chunk, dropping those wholly outside the block (incl. issue 347).
      const n = s.numChunks;
      if (crcs.length < n) {
        crcs = new Float64Array(n);
        lens = new Float64Array(n);
      }
      const data: (ChunkToWrite | undefined)[] = new Array(n);
      const keep = { numChunks: 0, minT: new Float64Array(n), maxT: new Float64Array(n) };
      const map: number[] = [];
      for (let i = 0; i < n; i++) {
        const cls = classifyChunk(s.minT[i]!, s.maxT[i]!, meta.minTime, meta.maxTime);
        if (cls === "complete-outside" || cls === "issue347") continue;
        const rec = await segs.read(s.ref[i]!);
        if (!rec) throw new NotRepairableError(`${source.name}: chunk of series ${s.id} unreadable`);
        const k = keep.numChunks++;
        keep.minT[k] = s.minT[i]!;
        keep.maxT[k] = s.maxT[i]!;
        crcs[k] = rec.crc;
        lens[k] = rec.data.length;
        data[k] = {
          minTime: s.minT[i]!,
          maxTime: s.maxT[i]!,
          chunk: { encoding: rec.encoding, data: rec.data.slice() },
        };
        map.push(i);
      }
      const plan = planChunkOrder(keep, crcs, lens);
      if (plan.overlapping >= 0)
        throw new NotRepairableError(`${source.name}: series ${s.id} has overlapping chunks with different data`);
      out.length = 0;
      const deleted = tombstones.get(s.id);
      for (const k of plan.order) {
        const c = data[k]!;
        const touched = deleted?.some((iv) => iv.mint <= c.maxTime && iv.maxt >= c.minTime);
        if (!touched) {
          out.push(c);
          continue;
        }
        const r = reencodeChunk(c.chunk, (t) => !isDeleted(deleted, t));
        if (r) out.push({ minTime: r.minTime, maxTime: r.maxTime, chunk: r.chunk });
      }
      if (out.length === 0) continue;
      await writer.addSeries(labels, out);
      prev = labels;
    }
    return await writer.finish(repairedMeta(meta, opts.ulid ?? newUlid()));
  } finally {
    await segs.close();
    await indexSrc.close?.();
  }
}

function repairedMeta(meta: BlockMeta, ulid: string): BlockMeta {
  const level = Math.max(1, meta.compaction.level);
  const out: BlockMeta = {
    ...meta,
    ulid,
    stats: {},
    compaction: {
      ...meta.compaction,
      level,
      sources: copiedSources({ ...meta, compaction: { ...meta.compaction, level } }, ulid),
    },
  };
  if (out.thanos) out.thanos = { ...out.thanos, source: "compactor.repair" };
  return out;
}
