import { constants, zstdCompressSync } from "node:zlib";

/** zstd at `level` (Node's built-in zstd); parquet-go's SpeedBetterCompression is about level 7. */
export function zstdCompressor(level: number): (b: Uint8Array) => Uint8Array {
  const o = { params: { [constants.ZSTD_c_compressionLevel]: level } };
  return (b) => zstdCompressSync(b, o);
}
