// Issue 13, "Done when": the whole life of a bucket through the local runtime, on a clock the
// test controls. Two tenants upload fifteen days of 2h blocks (life-a an HA replica pair,
// life-b with a corrupted block and one upload whose meta.json lands first); retention is
// 7 days for raw and 5m data, 1h kept forever. The test lets the bucket settle, then moves the
// clock on past retention and past the delete delay, and checks at every step and at the end:
// every indexed block has a verification record (and the live ones pass verify); the 8h, 2d
// and 14d blocks exist where due; the 5m and 1h blocks exist where Thanos would make them,
// and their aggregates equal those computed here from the raw samples; no raw sample inside
// retention is lost (deduplicated); retention removed exactly what it should and never the
// last copy of a range; no plan ran more than 3 times; nothing is dead-lettered.
//
// Issue 18: with Parquet on, as a platform team would run it. Every block of a 2d or 14d range
// is converted as it is indexed, beside the TSDB block, which passes every check above as it did.
import { expect } from "vitest";
import { describeLifecycle } from "./lifecycle-run.ts";

const HOUR = 3_600_000;

describeLifecycle(" (Parquet on)", { settings: { parquet: { enabled: true, minRangeMs: 12 * HOUR } } }, (log) => {
  const events = log.map((l) => JSON.parse(l) as Record<string, unknown>);
  const converted = events.filter((e) => e.event === "converted-to-parquet");
  expect(converted.length, "blocks converted to Parquet").toBeGreaterThan(0);
  const failed = events.filter(
    (e) => e.job === "convert" && (e.event === "job-failed" || e.event === "job-quarantined"),
  );
  expect(failed, "conversions that failed").toEqual([]);
});
