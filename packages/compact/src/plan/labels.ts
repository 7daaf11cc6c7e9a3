/**
 * A plan's `labels` are its output's external labels exactly. Grouping gives a stream left
 * with no labels once replica labels are removed Thanos' `<replica label>="deduped"`; the
 * output carries that only when its inputs had labels of their own. Inputs without external
 * labels (Prometheus' blocks, or a `thanos` section with none: the 5m twin of a Prometheus
 * block) give an output without any, as the first input with a `thanos` section decides,
 * which is how outputs were always written.
 */
import type { BlockMeta } from "@strata/tsdb";

/** `labels` (the group's) as the output of `inputs` (in plan order) carries them. */
export function exactOutputLabels(
  labels: Readonly<Record<string, string>>,
  inputs: readonly BlockMeta[],
): Record<string, string> {
  const first = inputs.find((m) => m.thanos)?.thanos;
  return first?.labels && Object.keys(first.labels).length > 0 ? { ...labels } : {};
}
