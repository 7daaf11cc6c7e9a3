import { crc32c } from "../src/encoding/crc32c.ts";
import { best, emit, type BenchResult } from "@strata/bench";

export async function benchCrc(): Promise<BenchResult[]> {
  const buf = new Uint8Array(64 << 20).map((_, i) => (i * 2654435761) >>> 24);
  const { seconds } = await best(5, () => crc32c(buf));
  return [{ name: "crc32c (slicing-by-8)", samples: 0, bytes: buf.length, seconds }];
}

if (import.meta.main) emit(await benchCrc());
