/**
 * Durations as Prometheus writes them: "0", "500ms", "90s", "15m", "48h", "30d", "1h30m" —
 * whole numbers, each followed by its unit, units from the largest down, each at most once
 * (y = 365d and w = 7d are read too). One parser and one formatter for every setting, flag
 * and message of the repository, in milliseconds.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Largest first: the order a duration's parts must follow. */
const UNITS: readonly (readonly [string, number])[] = [
  ["y", 365 * DAY],
  ["w", 7 * DAY],
  ["d", DAY],
  ["h", HOUR],
  ["m", MINUTE],
  ["s", SECOND],
  ["ms", 1],
];

/**
 * The units the formatter writes: weeks and years are read but not written, so a range reads "14d" as configurations
 * write it.
 */
const WRITTEN = UNITS.filter(([u]) => u !== "y" && u !== "w");

/** What an error message says is expected. */
export const DURATION_FORM = "a duration like 0, 90s, 15m, 48h or 30d";

// "ms" before "m" and "s", or "500ms" would read as 500 minutes followed by garbage.
const PART = /(\d+)(ms|y|w|d|h|m|s)/y;

/**
 * Milliseconds, or undefined when `text` is not a duration (a bare number other than 0 has no unit, so it is not one).
 */
export function tryParseDuration(text: string): number | undefined {
  const t = text.trim();
  if (t === "0") return 0;
  if (t === "") return undefined;
  let total = 0;
  let last = -1;
  PART.lastIndex = 0;
  while (PART.lastIndex < t.length) {
    const m = PART.exec(t);
    if (!m) return undefined;
    const i = UNITS.findIndex(([u]) => u === m[2]);
    if (i <= last) return undefined; // out of order or repeated: "30m1h", "1h1h"
    last = i;
    total += Number(m[1]) * UNITS[i]![1];
  }
  return Number.isSafeInteger(total) ? total : undefined;
}

/** Milliseconds; throws naming `what` (a setting, a flag) and the expected form. */
export function parseDuration(text: string, what: string): number {
  const ms = tryParseDuration(text);
  if (ms === undefined) throw new Error(`${what}: expected ${DURATION_FORM}, found ${JSON.stringify(text)}`);
  return ms;
}

/**
 * The shortest text `parseDuration` reads back as `ms`: "2h" rather than "120m", "90m" rather
 * than "1h30m", a compound only where it is shorter ("1d1ms"), "0" for zero. Whole
 * non-negative milliseconds only.
 */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0)
    throw new RangeError(`formatDuration: ${ms} is not a whole number of milliseconds ≥ 0`);
  return ms === 0 ? "0" : shortest(ms, 0);
}

/**
 * Among the forms whose largest unit is WRITTEN[from] or smaller: that unit alone when it
 * divides `ms`, else as many of it as fit followed by the shortest form of the rest.
 */
function shortest(ms: number, from: number): string {
  let best: string | undefined;
  for (let i = from; i < WRITTEN.length; i++) {
    const [name, size] = WRITTEN[i]!;
    const n = Math.floor(ms / size);
    if (n === 0) continue;
    const rest = ms - n * size;
    const text = rest === 0 ? `${n}${name}` : `${n}${name}${shortest(rest, i + 1)}`;
    if (best === undefined || text.length < best.length) best = text;
  }
  return best!; // the last unit, 1 ms, always fits
}
