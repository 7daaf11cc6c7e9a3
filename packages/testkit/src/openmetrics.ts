// Deterministic generator of varied OpenMetrics text for
// `promtool tsdb create-blocks-from openmetrics` (Prometheus 2.42).
//
// What that importer does, found by experiment (see the interop report):
// - The file must end with "# EOF" (a trailing newline after it is optional);
//   anything after it is an error. TYPE/HELP/UNIT lines are optional.
// - Every sample needs a timestamp, in seconds; fractions and exponent forms
//   ("1.6725312e9") are accepted. The importer computes int64(ts * 1000),
//   i.e. it truncates to ms, so "x.0005" lands on "x.000".
// - Samples of one series must be in time order: within one 5000-sample
//   commit an out-of-order or same-timestamp sample is dropped *silently*
//   (first value wins); across commits it fails with "out of order sample".
//   Negative timestamps are dropped silently too (the first window starts at 0).
// - Label values: "\\", "\"" and "\n" are unescaped; any other "\x" stays
//   literally; raw tabs, control and other non-printable characters are
//   accepted; invalid UTF-8 is rejected. A label with an empty value is
//   dropped. Label names are [a-zA-Z_][a-zA-Z0-9_]* (no colon), metric names
//   may contain colons. Values go through Go's ParseFloat minus "_"/"p"/"P"
//   forms; "NaN", "nan", "+Inf", "Inf", "inf", "-Inf", ".5", "5.", "+3",
//   "1e6", "1E6" are fine, "0x10" and "1e500" (out of range) are rejected,
//   "1e-400" silently becomes 0.
// - Series are separated into blocks at multiples of 2h (epoch ms); a block's
//   minTime is its first sample and maxTime its last sample + 1.
import { writeFile } from "node:fs/promises";
import { mulberry32 } from "@strata/tsdb";

export interface OpenMetricsFeatures {
  /** Counters drop back to 0 or a small value now and then. */
  counterResets: boolean;
  /** NaN, +Inf, -Inf values (also in their lower-case spellings). */
  specialValues: boolean;
  /** Max/min normal floats, denormals, -0, 1e±300, 2^53 neighbours. */
  extremeFloats: boolean;
  /** Integer values written as 1e6 / 1E6 / 1e+6 / 1000000 (promtool prints 1e+06). */
  exponentIntegers: boolean;
  /** Per-series intervals, random gaps, series that live only part of the time. */
  gaps: boolean;
  /** Millisecond jitter on timestamps, fractional / exponent second forms. */
  jitter: boolean;
  /** Non-ASCII label values, including characters outside the BMP. */
  unicode: boolean;
  /** Quotes, backslashes and newlines in label values (escaped per OpenMetrics). */
  escapes: boolean;
  /**
   * Raw characters Go's strconv.Quote escapes in dump output: tab, CR, U+0001, DEL, U+00A0, U+00AD, U+200B, U+2028,
   * U+E000, U+FEFF.
   */
  goQuoting: boolean;
  /** HELP and UNIT lines (TYPE lines are always written). */
  metadata: boolean;
}

export const ALL_FEATURES: Readonly<OpenMetricsFeatures> = Object.freeze({
  counterResets: true,
  specialValues: true,
  extremeFloats: true,
  exponentIntegers: true,
  gaps: true,
  jitter: true,
  unicode: true,
  escapes: true,
  goQuoting: true,
  metadata: true,
});

export interface OpenMetricsOptions {
  seed?: number;
  /** Number of series (spread over the metric families). Default 200. */
  series?: number;
  /** First possible sample time, epoch ms. Default 2023-01-01T00:17:00Z (not block aligned). */
  startMs?: number;
  /** Length of the data, ms. Default 5h, which gives 3 blocks at 2h. */
  durationMs?: number;
  /** Base scrape interval, ms (≥ 1000). Default 60s. */
  intervalMs?: number;
  features?: Partial<OpenMetricsFeatures>;
}

export interface FamilyInfo {
  /** Family name as in the TYPE line. */
  family: string;
  type: "counter" | "gauge";
  /** The `__name__` of its samples (counters get `_total`). */
  metric: string;
  series: number;
  samples: number;
}

export interface GeneratedOpenMetrics {
  text: string;
  /** Series with at least one sample. */
  seriesCount: number;
  sampleCount: number;
  /** Smallest / largest sample timestamp in ms, as the importer computes it. */
  minTime: number;
  maxTime: number;
  families: FamilyInfo[];
  /** Emitted counter samples lower than the series' previous sample. */
  counterResets: number;
  /** A PromQL selector that matches exactly one series through a non-BMP label value (null without `unicode`). */
  unicodeSelector: string | null;
}

/** Epoch ms of 2023-01-01T00:00:00Z, a multiple of 2h. */
export const JAN_2023_MS = 1672531200000;

/** Label value of the one series `unicodeSelector` matches (U+1F5FC is outside the BMP). */
export const UNIQUE_UNICODE_CITY = "東京タワー 🗼";

const UNICODE_VALUES = [
  "Zürich",
  "東京 🗼",
  "São Paulo",
  "Ελλάδα",
  "𝄞 clef",
  "😀",
  "🚀 launch",
  "مرحبا",
  "e\u0301 decomposed",
  "\u00e9 precomposed",
  "ﬀ",
  "한국어",
];
const ESCAPE_VALUES = ['say "hi"', "back\\slash", "two\nlines", "\\n literal", 'all \\ " \n of them', "trailing\\"];
const GO_QUOTE_VALUES = [
  "tab\there",
  "cr\rhere",
  "ctl\u0001",
  "del\u007f",
  "nb\u00a0sp",
  "soft\u00adhyphen",
  "zw\u200bsp",
  "ls\u2028",
  "pua\ue000",
  "bom\ufeff",
];
const ASCII_VALUES = ["alpha", "beta", "gamma", "delta", "/api/v1/query", "a-b_c.d", "0", "Z"];

const SPECIAL = [NaN, Infinity, -Infinity];
const EXTREME = [
  -0,
  0,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MIN_VALUE,
  -Number.MIN_VALUE,
  2.2250738585072014e-308, // smallest normal
  2.225073858507201e-308, // largest denormal
  1e-310,
  4.9406564584124654e-320,
  1e300,
  -1e-300,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 63),
  0.1 + 0.2,
  1 / 3,
  1e21,
  1e-7,
  123456,
  1234567,
  100000,
  0.0001,
  0.00001,
];

interface Family {
  family: string;
  type: "counter" | "gauge";
  unit?: string;
  help: string;
  weight: number;
}

const FAMILIES: Family[] = [
  { family: "http_requests", type: "counter", help: "Requests served, by handler — ünïcödé help", weight: 4 },
  { family: "node_cpu_seconds", type: "counter", unit: "seconds", help: "CPU time.", weight: 2 },
  { family: "temperature_celsius", type: "gauge", unit: "celsius", help: "Temperature in °C.", weight: 2 },
  { family: "queue_depth", type: "gauge", help: "Items waiting.", weight: 2 },
  { family: "job:latency_seconds:ratio", type: "gauge", help: "Recording-rule style name.", weight: 1 },
  { family: "edge_values", type: "gauge", help: "Float edge cases.", weight: 1 },
  { family: "label_torture", type: "gauge", help: "Odd label values.", weight: 1 },
];

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Formats a timestamp in seconds so that int64(parse(s) * 1000) is exactly `ms`. */
function formatTimestamp(ms: number, rnd: () => number, varied: boolean): string {
  const sec = Math.floor(ms / 1000);
  const frac = ms - sec * 1000;
  let s: string;
  if (frac === 0) {
    const r = rnd();
    s = !varied || r < 0.7 ? String(sec) : r < 0.85 ? `${sec}.0` : sec.toExponential();
  } else {
    s = `${sec}.${String(frac).padStart(3, "0")}`;
    if (varied && rnd() < 0.5) s = s.replace(/0+$/, "");
  }
  if (Math.trunc(parseFloat(s) * 1000) !== ms) {
    s = `${sec}.${String(frac).padStart(3, "0")}`;
    if (Math.trunc(parseFloat(s) * 1000) !== ms) throw new Error(`cannot express ${ms} ms exactly for the importer`);
  }
  return s;
}

/** Formats a value so Go's ParseFloat reads back exactly `v`. */
function formatValue(v: number, rnd: () => number, f: OpenMetricsFeatures): string {
  if (Number.isNaN(v)) return f.specialValues && rnd() < 0.2 ? "nan" : "NaN";
  if (v === Infinity) return rnd() < 0.8 ? "+Inf" : rnd() < 0.5 ? "Inf" : "inf";
  if (v === -Infinity) return rnd() < 0.8 ? "-Inf" : "-inf";
  if (Object.is(v, -0)) return "-0";
  if (f.exponentIntegers && Number.isInteger(v) && Math.abs(v) >= 1000 && Math.abs(v) < 1e21) {
    const r = rnd();
    if (r < 0.3) return v.toExponential(); // 1e+6
    if (r < 0.5) return v.toExponential().replace("e+", "E"); // 1E6
    if (r < 0.6 && v > 0) return `+${v}`;
  }
  return String(v);
}

interface SeriesPlan {
  labels: [string, string][];
  intervalMs: number;
  from: number;
  to: number;
}

/** Generates the OpenMetrics text; same options → same bytes. */
export function generateOpenMetrics(opts: OpenMetricsOptions = {}): GeneratedOpenMetrics {
  const seed = opts.seed ?? 1;
  const nSeries = opts.series ?? 200;
  const start = opts.startMs ?? JAN_2023_MS + 17 * 60_000;
  const duration = opts.durationMs ?? 5 * 3_600_000;
  const end = start + duration;
  const base = Math.max(1000, opts.intervalMs ?? 60_000);
  const f: OpenMetricsFeatures = { ...ALL_FEATURES, ...opts.features };
  const rnd = mulberry32(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;

  // Label value pool for "free text" labels, by enabled features.
  const pool = [...ASCII_VALUES];
  if (f.unicode) pool.push(...UNICODE_VALUES);
  if (f.escapes) pool.push(...ESCAPE_VALUES);
  if (f.goQuoting) pool.push(...GO_QUOTE_VALUES);

  // Spread the series over the families by weight; every family gets ≥ 1.
  const totalWeight = FAMILIES.reduce((s, x) => s + x.weight, 0);
  const counts = FAMILIES.map((fam) => Math.max(1, Math.floor((nSeries * fam.weight) / totalWeight)));
  for (let i = 0, sum = counts.reduce((a, b) => a + b, 0); sum < nSeries; i = (i + 1) % counts.length, sum++)
    counts[i]!++;

  const out: string[] = [];
  const families: FamilyInfo[] = [];
  let seriesCount = 0;
  let sampleCount = 0;
  let minTime = Infinity;
  let maxTime = -Infinity;
  let counterResets = 0;
  let unicodeSelector: string | null = null;

  for (let fi = 0; fi < FAMILIES.length; fi++) {
    const fam = FAMILIES[fi]!;
    const metric = fam.type === "counter" ? `${fam.family}_total` : fam.family;
    const info: FamilyInfo = { family: fam.family, type: fam.type, metric, series: 0, samples: 0 };
    families.push(info);
    out.push(`# TYPE ${fam.family} ${fam.type}`);
    if (f.metadata) {
      out.push(`# HELP ${fam.family} ${fam.help}`);
      if (fam.unit) out.push(`# UNIT ${fam.family} ${fam.unit}`);
    }
    for (let si = 0; si < counts[fi]!; si++) {
      const plan = planSeries(fam, si);
      const lbl = plan.labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",");
      const prefix = `${metric}{${lbl}} `;
      let n = 0;
      let v = initialValue(fam);
      let lastMs = -Infinity;
      let lastEmitted = NaN;
      let skip = 0;
      for (let t = plan.from; t < plan.to; t += plan.intervalMs) {
        let ms = t;
        if (f.jitter) ms += int(-Math.floor(plan.intervalMs / 10), Math.floor(plan.intervalMs / 10));
        if (ms <= lastMs || ms < start || ms >= end) continue;
        v = nextValue(fam, v, plan.intervalMs);
        if (skip > 0) {
          skip--;
          continue;
        }
        if (f.gaps && rnd() < 0.01) skip = int(3, 120);
        lastMs = ms;
        if (fam.type === "counter" && v < lastEmitted) counterResets++;
        lastEmitted = v;
        out.push(prefix + formatValue(v, rnd, f) + " " + formatTimestamp(ms, rnd, f.jitter));
        n++;
        if (ms < minTime) minTime = ms;
        if (ms > maxTime) maxTime = ms;
      }
      if (n > 0) {
        seriesCount++;
        info.series++;
        sampleCount += n;
        info.samples += n;
      }
    }
  }
  out.push("# EOF", "");

  return {
    text: out.join("\n"),
    seriesCount,
    sampleCount,
    minTime,
    maxTime,
    families,
    counterResets,
    unicodeSelector,
  };

  function planSeries(fam: Family, si: number): SeriesPlan {
    // A unique instance label keeps series distinct whatever the other labels are.
    const labels: [string, string][] = [
      ["instance", `10.${Math.floor(si / 65536) % 256}.${Math.floor(si / 256) % 256}.${si % 256}:9100`],
    ];
    switch (fam.family) {
      case "http_requests":
        labels.push(
          ["method", pick(["GET", "POST", "PUT", "DELETE"])],
          ["code", pick(["200", "404", "500"])],
          ["handler", pick(pool)],
        );
        break;
      case "node_cpu_seconds":
        labels.push(["cpu", String(si % 8)], ["mode", pick(["user", "system", "idle", "iowait"])]);
        break;
      case "temperature_celsius":
        if (si === 0 && f.unicode) {
          // A value not in the pool, so the selector matches exactly this series.
          labels.push(["city", UNIQUE_UNICODE_CITY], ["sensor", "s0"]);
          unicodeSelector = `temperature_celsius{city="${UNIQUE_UNICODE_CITY}"}`;
        } else {
          labels.push(["city", pick(pool)], ["sensor", `s${si}`]);
        }
        break;
      case "queue_depth":
        // An upper-case label name sorts before __name__ in Go byte order.
        labels.push(["Zone", pick(["eu-west-1", "us-east-1", "ap-south-1"])], ["queue", pick(pool)]);
        break;
      case "job:latency_seconds:ratio":
        labels.push(["job", pick(["api", "db", "cache"])], ["_underscore", "x"]);
        break;
      case "edge_values":
        labels.push(["kind", pick(["special", "extreme", "mixed"])]);
        break;
      case "label_torture":
        labels.push(["a", pick(pool)], ["b", pick(pool)], ["long", pick(pool).repeat(int(1, 20))]);
        break;
    }
    let intervalMs = base;
    let from = start;
    let to = end;
    if (f.gaps) {
      // A quarter interval gives > 120 samples per 2h block, so several chunks per series.
      intervalMs = Math.max(1000, Math.round(base * pick([0.25, 1, 1, 1, 2, 4])));
      if (rnd() < 0.25) {
        // Churn: the series exists only for part of the time range.
        const a = start + Math.floor(rnd() * duration);
        const b = a + Math.floor(rnd() * (end - a));
        from = a;
        to = Math.max(b, a + intervalMs);
      }
    }
    // Phase within the interval; whole seconds unless jitter is on.
    const phase = int(0, intervalMs - 1);
    from += f.jitter ? phase : Math.floor(phase / 1000) * 1000;
    return { labels, intervalMs, from, to };
  }

  function initialValue(fam: Family): number {
    switch (fam.family) {
      case "http_requests":
        // Some counters start near 2^53 where consecutive doubles are 2 apart.
        return rnd() < 0.1 ? 2 ** 53 - int(0, 1000) * 2 : int(0, 1000);
      case "node_cpu_seconds":
        return rnd() * 1e5;
      case "temperature_celsius":
        return Math.round((rnd() * 60 - 20) * 100) / 100;
      case "queue_depth":
        return f.exponentIntegers ? int(0, 5) * 1e6 : int(0, 100);
      default:
        return rnd();
    }
  }

  function nextValue(fam: Family, v: number, intervalMs: number): number {
    switch (fam.family) {
      case "http_requests":
      case "node_cpu_seconds": {
        if (f.counterResets && rnd() < 0.02) {
          return rnd() < 0.5 ? 0 : int(1, 5);
        }
        return fam.family === "http_requests" ? v + int(0, 50) : v + (rnd() * intervalMs) / 1000;
      }
      case "temperature_celsius": {
        if (f.specialValues && rnd() < 0.01) return NaN;
        const next = Number.isFinite(v) ? v : 20;
        return Math.round((next + (rnd() - 0.5) * 2) * 100) / 100;
      }
      case "queue_depth":
        if (f.exponentIntegers) return rnd() < 0.5 ? int(0, 9) * 10 ** int(3, 9) : int(0, 20) * 5e5;
        return Math.max(0, v + int(-5, 5));
      case "job:latency_seconds:ratio":
        return rnd() * 10 ** -int(0, 7);
      case "edge_values": {
        const r = rnd();
        if (f.specialValues && r < 0.2) return pick(SPECIAL);
        if (f.extremeFloats && r < 0.6) return pick(EXTREME);
        if (f.extremeFloats && r < 0.8) {
          // Random magnitude anywhere in the double range, denormals included.
          const x = (rnd() * 2 - 1) * 10 ** int(-323, 307);
          return Number.isFinite(x) ? x : 0;
        }
        return (rnd() - 0.5) * 1000;
      }
      default:
        return int(0, 3);
    }
  }
}

/** Writes generated OpenMetrics to `file` and returns the generation summary (with `text`). */
export async function writeOpenMetrics(file: string, opts: OpenMetricsOptions = {}): Promise<GeneratedOpenMetrics> {
  const g = generateOpenMetrics(opts);
  await writeFile(file, g.text);
  return g;
}
