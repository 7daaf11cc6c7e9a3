/**
 * mulberry32: a tiny seeded PRNG returning floats in [0, 1), so every generated data set is
 * the same on every run. Test support only; the local runtime has its own generator for demo
 * data and faults (@strata/local's `seededRandom`), so production code never reaches for this one.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
