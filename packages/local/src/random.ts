/**
 * mulberry32: a tiny seeded PRNG (floats in [0, 1)), so demo data and injected faults are the
 * same on every run with the same seed. The runtime is its only production user, so it lives
 * here; tests have their own (@strata/testkit's `mulberry32`), and neither depends on the other.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
