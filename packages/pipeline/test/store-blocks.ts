// Real blocks written straight into an ObjectStore (as an upload would leave them), for tests
// of the real bindings: three `up` series of 480 samples at 15 s over one 2h window.
import { StoreBlockSink } from "@strata/bucket";
import type { ObjectStore } from "@strata/bucket";
import {
  BlockWriter,
  Encoding,
  compareLabels,
  compareStrings,
  encodeXOR,
  newUlid,
  type BlockMeta,
  type BlockWriterOptions,
  type Label,
} from "@strata/tsdb";
import { pipelineLayout } from "@strata/pipeline";

export const HOUR = 3_600_000;

export async function writeStoreBlock(
  store: ObjectStore,
  tenant: string,
  minT: number,
  seed: number,
  labels: Record<string, string> = { cluster: "a" },
  writer: BlockWriterOptions = {},
): Promise<BlockMeta> {
  const ulid = newUlid(minT + 2 * HOUR, new Uint8Array(10).fill(seed));
  const sink = new StoreBlockSink(store, pipelineLayout().blockPrefix(tenant, ulid));
  const series: Label[][] = [0, 1, 2]
    .map((i) => [
      { name: "__name__", value: "up" },
      { name: "i", value: String(i) },
    ])
    .sort(compareLabels);
  const w = new BlockWriter(sink, writer);
  await w.addSymbols(["__name__", "i", "up", "0", "1", "2"].sort(compareStrings));
  const n = 480;
  const ts = new Float64Array(n);
  const vs = new Float64Array(n);
  for (const s of series) {
    for (let j = 0; j < n; j++) (ts[j] = minT + j * 15_000), (vs[j] = j * seed);
    const chunks = [];
    for (let i = 0; i < n; i += 120)
      chunks.push({
        minTime: ts[i]!,
        maxTime: ts[i + 119]!,
        chunk: { encoding: Encoding.XOR, data: encodeXOR(ts, vs, i, i + 120) },
      });
    await w.addSeries(s, chunks);
  }
  const written = await w.finish({
    ulid,
    minTime: minT,
    maxTime: minT + 2 * HOUR,
    stats: {},
    compaction: { level: 1, sources: [ulid] },
    version: 1,
    thanos: { labels, source: "sidecar", downsample: { resolution: 0 } },
  });
  await sink.commit();
  return written.meta;
}
