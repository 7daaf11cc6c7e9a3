import type { ChunkMeta, Interval } from "@strata/tsdb";
import type { ByteBuf } from "./bytes.ts";
import type { ReencodeOptions } from "./chunk-value.ts";

/** Native histogram chunks: not converted yet (see FORMAT.md, "Gaps"). */
export function reencodeHistograms(
  _chunks: readonly ChunkMeta[],
  _deleted: readonly Interval[] | undefined,
  _o: ReencodeOptions,
  _outs: ByteBuf[],
): boolean {
  throw new Error("native histogram chunks are not converted to parquet yet");
}
