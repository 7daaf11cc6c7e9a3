// Blocks from explicit samples: the series a test states, cut into XOR chunks.
import { Encoding, compareStrings, encodeXOR, type BlockWriter, type Label } from "@strata/tsdb";

/** One series' samples, values as bit-exact doubles. */
export interface SeriesSamples {
  labels: Label[];
  ts: Float64Array;
  vs: Float64Array;
}

/**
 * Add `series` (sorted by labels) to a fresh BlockWriter: their symbols first, then each
 * series cut into XOR chunks of `samplesPerChunk` samples. Returns the samples' time range
 * as a block would declare it ([first, last + 1)); the caller finishes the block.
 */
export async function addXorSeries(
  w: BlockWriter,
  series: readonly SeriesSamples[],
  samplesPerChunk = 120,
): Promise<{ minTime: number; maxTime: number }> {
  const symbols = new Set<string>();
  for (const s of series) for (const l of s.labels) symbols.add(l.name), symbols.add(l.value);
  await w.addSymbols([...symbols].sort(compareStrings));
  let minTime = Infinity;
  let maxTime = -Infinity;
  for (const s of series) {
    const chunks = [];
    for (let i = 0; i < s.ts.length; i += samplesPerChunk) {
      const end = Math.min(s.ts.length, i + samplesPerChunk);
      chunks.push({
        minTime: s.ts[i]!,
        maxTime: s.ts[end - 1]!,
        chunk: { encoding: Encoding.XOR, data: encodeXOR(s.ts, s.vs, i, end) },
      });
    }
    minTime = Math.min(minTime, s.ts[0]!);
    maxTime = Math.max(maxTime, s.ts[s.ts.length - 1]! + 1);
    await w.addSeries(s.labels, chunks);
  }
  return { minTime, maxTime };
}
