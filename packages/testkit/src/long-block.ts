// A raw block written straight into a bucket, as an upload would leave it.
import { StoreBlockSink, type ObjectStore } from "@strata/bucket";
import { BlockWriter, Encoding, encodeXOR, newUlid, type BlockMeta } from "@strata/tsdb";
import { pipelineLayout } from "@strata/pipeline";

const HOUR = 3_600_000;

/**
 * One raw block over 48h from `minT` (one series `up`, two samples; external labels
 * `{cluster="b"}`): a range old and long enough to be downsampled to 5m. `randomness` fixes
 * the ULID's random part (default: random).
 */
export async function writeLongBlock(
  store: ObjectStore,
  tenant: string,
  minT: number,
  randomness?: Uint8Array,
): Promise<BlockMeta> {
  const maxT = minT + 48 * HOUR;
  const ulid = newUlid(maxT, randomness);
  const sink = new StoreBlockSink(store, pipelineLayout().blockPrefix(tenant, ulid));
  const w = new BlockWriter(sink);
  await w.addSymbols(["__name__", "up"]);
  const data = encodeXOR(new Float64Array([minT, maxT - 1]), new Float64Array([1, 2]), 0, 2);
  await w.addSeries(
    [{ name: "__name__", value: "up" }],
    [{ minTime: minT, maxTime: maxT - 1, chunk: { encoding: Encoding.XOR, data } }],
  );
  const { meta } = await w.finish({
    ulid,
    minTime: minT,
    maxTime: maxT,
    stats: {},
    compaction: { level: 1, sources: [ulid] },
    version: 1,
    thanos: { labels: { cluster: "b" }, source: "sidecar", downsample: { resolution: 0 } },
  });
  await sink.commit();
  return meta;
}
