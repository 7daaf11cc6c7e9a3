/**
 * `npm run fuzz [-- <count> <seconds> <seed>]`: the verifier fuzz test for longer
 * (defaults: 100000 cases or 300 s, seed from the clock). Prints failures with their seed
 * and case number; exits 1 if any.
 */
import { caseFailure, fuzz, makeFuzzBlock } from "./fuzz.ts";

const [count = 100_000, seconds = 300, seed = Date.now() % 2 ** 31] = process.argv.slice(2).map(Number);
const bases = [await makeFuzzBlock(40, 1), await makeFuzzBlock(7, 2), await makeFuzzBlock(120, 3)];
let failures = 0;
let maxMs = 0;
let peakRss = 0;
const cases = await fuzz({
  seed,
  count,
  seconds,
  bases,
  onCase: (c) => {
    maxMs = Math.max(maxMs, c.millis);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const why = caseFailure(c, 5000);
    if (why) {
      failures++;
      console.log(`FAIL seed ${seed} case ${c.index} (${c.mutation}): ${why}`);
    }
  },
});
const rejected = cases.filter((c) => c.report && !c.report.ok).length;
console.log(
  `seed ${seed}: ${cases.length} cases, ${rejected} reported problems, ${failures} failures; slowest ${maxMs.toFixed(1)} ms; peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`,
);
process.exitCode = failures ? 1 : 0;
