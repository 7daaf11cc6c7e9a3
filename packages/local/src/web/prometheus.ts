/**
 * The local runtime's metrics in Prometheus' text exposition format 0.0.4 (hand-written: no
 * client library). `MetricsRegistry` is the pipeline's `Metrics` port kept in memory (the
 * worker's job counters and durations); `exposition` renders it with gauges computed at
 * scrape time (the tenants', the queues'), in the catalogue's order, with HELP and TYPE lines.
 */
import {
  METRICS,
  type CounterName,
  type GaugeName,
  type MetricLabels,
  type MetricName,
  type Metrics,
  type SummaryName,
} from "@strata/pipeline";

/** Label sets kept per metric: beyond it new ones are dropped (memory stays bounded). */
export const MAX_SERIES_PER_METRIC = 10_000;

interface Series {
  labels: MetricLabels;
  value: number;
  /** Summaries only: observations. */
  count: number;
}

export interface Sample {
  name: MetricName;
  labels: MetricLabels;
  value: number;
}

export class MetricsRegistry implements Metrics {
  private readonly series = new Map<MetricName, Map<string, Series>>();
  /** Label sets refused by the cap, for the operator who wonders why one is missing. */
  dropped = 0;

  add(name: CounterName, value: number, labels: MetricLabels): void {
    const s = this.get(name, labels);
    if (s) s.value += value;
  }

  observe(name: SummaryName, value: number, labels: MetricLabels): void {
    const s = this.get(name, labels);
    if (!s) return;
    s.value += value;
    s.count++;
  }

  set(name: GaugeName, value: number, labels: MetricLabels): void {
    const s = this.get(name, labels);
    if (s) s.value = value;
  }

  /** Every series recorded so far (summaries as their sum and count). */
  snapshot(): { name: MetricName; labels: MetricLabels; value: number; count: number }[] {
    return [...this.series].flatMap(([name, m]) => [...m.values()].map((s) => ({ name, ...s })));
  }

  private get(name: MetricName, labels: MetricLabels): Series | undefined {
    let m = this.series.get(name);
    if (!m) this.series.set(name, (m = new Map()));
    const key = labelKey(labels);
    let s = m.get(key);
    if (!s) {
      if (m.size >= MAX_SERIES_PER_METRIC) {
        this.dropped++;
        return undefined;
      }
      m.set(key, (s = { labels: { ...labels }, value: 0, count: 0 }));
    }
    return s;
  }
}

export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** The text page: the registry's series and the gauges given, each family once, in catalogue order. */
export function exposition(registry: MetricsRegistry | undefined, gauges: readonly Sample[]): string {
  const lines = new Map<MetricName, string[]>();
  const push = (name: MetricName, line: string) => {
    const l = lines.get(name);
    if (l) l.push(line);
    else lines.set(name, [line]);
  };
  for (const s of registry?.snapshot() ?? []) {
    if (METRICS[s.name].type === "summary") {
      push(s.name, `${s.name}_sum${labelText(s.labels)} ${num(s.value)}`);
      push(s.name, `${s.name}_count${labelText(s.labels)} ${num(s.count)}`);
    } else push(s.name, `${s.name}${labelText(s.labels)} ${num(s.value)}`);
  }
  for (const g of gauges) push(g.name, `${g.name}${labelText(g.labels)} ${num(g.value)}`);
  let out = "";
  for (const name of Object.keys(METRICS) as MetricName[]) {
    const l = lines.get(name);
    if (!l) continue;
    out += `# HELP ${name} ${escapeHelp(METRICS[name].help)}\n# TYPE ${name} ${METRICS[name].type}\n`;
    out += `${l.join("\n")}\n`;
  }
  return out;
}

function labelKey(labels: MetricLabels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function labelText(labels: MetricLabels): string {
  // An empty value is the same as no label to Prometheus: left out.
  const parts = Object.entries(labels)
    .filter(([, v]) => v !== "")
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

/** Label values escape backslash, double quote and line feed. */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** HELP text escapes backslash and line feed (not quotes). */
function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function num(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}
