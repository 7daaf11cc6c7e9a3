/**
 * Order-independent fingerprints of the relation "series id carries (name, value)", kept
 * per label name. The series walk adds every label of every series; the postings walk
 * adds every id of every list; equal fingerprints mean both sides hold the same triples
 * (two independent 32-bit sums plus a count: a chance collision is ~2^-64), in memory
 * proportional to the number of label names instead of the number of postings.
 */
export class PairHashes {
  private readonly slot = new Map<number, number>();
  private a = new Uint32Array(64);
  private b = new Uint32Array(64);
  private n = new Float64Array(64);

  add(id: number, name: number, value: number): void {
    let k = this.slot.get(name);
    if (k === undefined) {
      k = this.slot.size;
      this.slot.set(name, k);
      if (k >= this.a.length) this.grow();
    }
    this.a[k] = (this.a[k]! + mix(id, name, value, 0x9e3779b1)) >>> 0;
    this.b[k] = (this.b[k]! + mix(id, name, value, 0x85ebca77)) >>> 0;
    this.n[k]!++;
  }

  /** Name ordinals present on either side. */
  names(): number[] {
    return [...this.slot.keys()];
  }

  equalFor(other: PairHashes, name: number): boolean {
    const x = this.slot.get(name);
    const y = other.slot.get(name);
    const xn = x === undefined ? 0 : this.n[x];
    const yn = y === undefined ? 0 : other.n[y];
    if (xn !== yn) return false;
    if (xn === 0) return true;
    return this.a[x!] === other.a[y!] && this.b[x!] === other.b[y!];
  }

  private grow(): void {
    const a = new Uint32Array(this.a.length * 2);
    const b = new Uint32Array(this.a.length * 2);
    const n = new Float64Array(this.a.length * 2);
    a.set(this.a);
    b.set(this.b);
    n.set(this.n);
    this.a = a;
    this.b = b;
    this.n = n;
  }
}

function mix(id: number, name: number, value: number, seed: number): number {
  let h = seed ^ Math.imul(id | 0, 0xcc9e2d51);
  h = Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64;
  h ^= Math.imul(name | 0, 0x1b873593);
  h = Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64;
  h ^= Math.imul(value | 0, 0xcc9e2d51);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
