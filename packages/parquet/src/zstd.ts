import { constants, zstdCompressSync } from "node:zlib";

/**
 * zstd at `level` through Node's zlib. Synchronous on purpose: zlib's asynchronous zstd (on the
 * thread pool) measured 3x the wall time and 1.2-1.8x the CPU for 256 KiB pages on two cores.
 */
export function zstdCompressor(level: number): (b: Uint8Array) => Promise<Uint8Array> {
  const o = { params: { [constants.ZSTD_c_compressionLevel]: level } };
  return async (b) => zstdCompressSync(b, o);
}
