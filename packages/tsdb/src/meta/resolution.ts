/**
 * The downsampling resolution ladder, the one definition every package uses. A block's
 * resolution is `thanos.downsample.resolution` in milliseconds; absent (a Prometheus block,
 * or no thanos section) means raw. Thanos names the rungs ResLevel0/1/2 (T: pkg/compact/
 * downsample/downsample.go) and ResolutionLevelRaw/5m/1h (T: pkg/compact/compact.go); its
 * flags and Strata's settings spell them raw, 5m, 1h.
 */
/** Raw samples (Thanos ResLevel0). */
export const RESOLUTION_RAW = 0;
/** 5 minutes (Thanos ResLevel1). */
export const RESOLUTION_5M = 300_000;
/** 1 hour (Thanos ResLevel2). */
export const RESOLUTION_1H = 3_600_000;

/** Every resolution Thanos writes, finest first. */
export const RESOLUTIONS = [RESOLUTION_RAW, RESOLUTION_5M, RESOLUTION_1H] as const;
export type Resolution = (typeof RESOLUTIONS)[number];
/** A resolution a block can be downsampled to (raw is none). */
export type DownsampleResolution = typeof RESOLUTION_5M | typeof RESOLUTION_1H;

/**
 * The resolution a block's meta declares; the thanos section alone will do (`{ thanos }`).
 * Typed by shape, not as BlockMeta: meta.ts uses this, and files import in one direction.
 */
export function blockResolution(meta: {
  readonly thanos?: { readonly downsample?: { readonly resolution: number } } | null;
}): number {
  return meta.thanos?.downsample?.resolution ?? RESOLUTION_RAW;
}

export function isResolution(ms: number): ms is Resolution {
  return (RESOLUTIONS as readonly number[]).includes(ms);
}

/** The resolution a block at `ms` is downsampled to next: raw → 5m → 1h; none after 1h (or off the ladder). */
export function nextResolution(ms: number): DownsampleResolution | undefined {
  return ms === RESOLUTION_RAW ? RESOLUTION_5M : ms === RESOLUTION_5M ? RESOLUTION_1H : undefined;
}

/** The resolution a block must have to be downsampled to `target`: 5m from raw, 1h from 5m. */
export function sourceResolution(target: DownsampleResolution): Resolution {
  return target === RESOLUTION_5M ? RESOLUTION_RAW : RESOLUTION_5M;
}

/** "raw", "5m" or "1h" (Thanos' and the settings' spelling); anything off the ladder as "<ms>ms". */
export function resolutionName(ms: number): string {
  return ms === RESOLUTION_RAW ? "raw" : ms === RESOLUTION_5M ? "5m" : ms === RESOLUTION_1H ? "1h" : `${ms}ms`;
}
