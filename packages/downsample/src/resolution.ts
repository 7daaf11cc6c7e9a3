/**
 * Thanos' downsampling constants and window arithmetic (T: pkg/compact/downsample/
 * downsample.go). Times are epoch milliseconds held in doubles (exact below 2^53). The
 * resolutions themselves are @strata/tsdb's (RESOLUTION_RAW/5M/1H).
 */
import { RESOLUTION_1H, RESOLUTION_5M, type DownsampleResolution } from "@strata/tsdb";

/** A raw block is downsampled to 5m once it spans at least 40h ("roughly 2 chunks out of it"). */
export const RES_5M_MIN_RANGE = 40 * 60 * 60 * 1000;
/** A 5m block is downsampled to 1h once it spans at least 10 days. */
export const RES_1H_MIN_RANGE = 10 * 24 * 60 * 60 * 1000;

/** Thanos assumes raw data is scraped every minute when sizing output chunks. */
export const ASSUMED_RAW_INTERVAL = 60_000;

/** Average aggregate samples per output chunk Thanos aims below. */
export const MAX_SAMPLES_PER_CHUNK = 140;

/** Parse "5m" / "1h" (or the millisecond numbers) into a target resolution. */
export function parseResolution(s: string): DownsampleResolution | undefined {
  switch (s) {
    case "5m":
    case "300000":
      return RESOLUTION_5M;
    case "1h":
    case "60m":
    case "3600000":
      return RESOLUTION_1H;
    default:
      return undefined;
  }
}

/**
 * Last millisecond of the window of width r holding t. Windows are aligned to multiples
 * of r since the epoch and inclusive at both ends, so the end is one less than the next
 * window's start (block ranges are half-open).
 */
export function currentWindow(t: number, r: number): number {
  // Not t - t % r: `%` on doubles is a libc fmod call (~10 ns, once per window). For a
  // safe integer t the rounded quotient cannot cross an integer (its error is below
  // ulp(q)/2 < 1/r), so the truncated division gives Go's t - t%r exactly.
  return Math.trunc(t / r) * r + r - 1;
}

/**
 * How many output chunks a series' run of `count` samples over [mint, maxt] becomes:
 * the windows the range could hold, scaled by how densely the input fills it at inRes,
 * split so that no chunk averages more than 140 samples.
 */
export function targetChunkCount(mint: number, maxt: number, inRes: number, outRes: number, count: number): number {
  // Go: float64((maxt-mint)/outRes), an integer division first.
  const maxSamples = Math.trunc((maxt - mint) / outRes);
  let fullness = count / ((maxt - mint) / inRes);
  if (fullness > 1) fullness = 1;
  const expSamples = Math.trunc(maxSamples * fullness) + 1;
  let x = 1;
  while (Math.trunc(expSamples / x) > MAX_SAMPLES_PER_CHUNK) x++;
  return x;
}
