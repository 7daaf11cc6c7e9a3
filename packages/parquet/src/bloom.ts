import { xxhash64 } from "@strata/tsdb";

/** Parquet's split-block bloom filter (parquet-format BloomFilter.md): 32-byte blocks of eight 32-bit words. */
const SALT = [0x47b6137b, 0x44974d91, 0x8824ad5b, 0xa2b7289d, 0x705495c7, 0x2df1424b, 0x9efc4947, 0x5c6bfb31];
export const BLOOM_BLOCK_BYTES = 32;

/** Filter size as parquet-go sizes it: ceil(ceil(n * bitsPerValue / 8) / 32) blocks. */
export function bloomBlocks(distinct: number, bitsPerValue: number): number {
  const bytes = Math.floor((distinct * bitsPerValue + 7) / 8);
  return Math.floor((bytes + BLOOM_BLOCK_BYTES - 1) / BLOOM_BLOCK_BYTES);
}

export class SplitBlockBloom {
  readonly words: Uint32Array;
  readonly blocks: number;
  constructor(blocks: number) {
    this.blocks = blocks;
    this.words = new Uint32Array(blocks * 8);
  }
  private locate(h: bigint): { base: number; key: number } {
    const block = Number(((h >> 32n) * BigInt(this.blocks)) >> 32n);
    return { base: block * 8, key: Number(h & 0xffffffffn) };
  }
  insertHash(h: bigint): void {
    const { base, key } = this.locate(h);
    for (let i = 0; i < 8; i++) {
      const bit = Math.imul(key, SALT[i]!) >>> 27;
      this.words[base + i] = this.words[base + i]! | (1 << bit);
    }
  }
  insert(value: Uint8Array): void {
    this.insertHash(xxhash64(value));
  }
  check(value: Uint8Array): boolean {
    const { base, key } = this.locate(xxhash64(value));
    for (let i = 0; i < 8; i++) {
      const bit = Math.imul(key, SALT[i]!) >>> 27;
      if ((this.words[base + i]! & (1 << bit)) === 0) return false;
    }
    return true;
  }
  /** The bitset, words little-endian. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.words.length * 4);
    const dv = new DataView(out.buffer);
    for (let i = 0; i < this.words.length; i++) dv.setUint32(i * 4, this.words[i]!, true);
    return out;
  }
  static fromBytes(b: Uint8Array): SplitBlockBloom {
    const f = new SplitBlockBloom(b.length / BLOOM_BLOCK_BYTES);
    const dv = new DataView(b.buffer, b.byteOffset, b.length);
    for (let i = 0; i < f.words.length; i++) f.words[i] = dv.getUint32(i * 4, true);
    return f;
  }
}
