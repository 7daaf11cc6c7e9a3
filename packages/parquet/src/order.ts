/** Bytewise order of UTF-8 strings, as Go compares strings (and Parquet orders BYTE_ARRAY min/max). */
export function compareBytesGo(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}
