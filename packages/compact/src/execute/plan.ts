/**
 * Running one of the planner's plans: the plan says what to make (inputs, window, level,
 * external labels, resolution, shards), the I/O where from and where to. The plan is the
 * contract: what it states is checked against the inputs before anything is written
 * (plan-check.ts), and the outputs' meta.json say what the plan says (`planOutputMeta`)
 * instead of being worked out again from the inputs.
 *
 * Outputs are written, then each in turn is checked (`io.check`) and committed (made
 * visible: meta.json last), shard by shard; on any failure every output not yet committed is
 * aborted and the error rethrown, while committed ones are kept (a retry of a split finds
 * them and asks only for the missing `shards`).
 */
import { stoppableSink, type BlockSink, type BlockSource, type Labels } from "@strata/tsdb";
import type { Plan } from "../plan/schema.ts";
import { runSettings } from "./compact.ts";
import type { IndexLimits } from "./guard.ts";
import { planOutputMeta } from "./meta.ts";
import { checkPlan, checkPlanInputs } from "./plan-check.ts";
import { runCompaction, withReaders, type CompactOutput, type CompactResult, type DedupMode } from "./run.ts";

/** A sink that can make its block visible, or take it back. */
export interface OutputSink extends BlockSink {
  /** Store what makes the block visible (meta.json, a rename); called once every file is written and checked. */
  commit(): Promise<unknown>;
  /** Delete what was written; the block never became visible. */
  abort(): Promise<void>;
}

export interface PlanOutput<S extends OutputSink = OutputSink> extends CompactOutput {
  sink: S;
}

export interface PlanIO<S extends OutputSink = OutputSink> {
  /** One source per plan input, in `plan.inputs` order. */
  sources: readonly BlockSource[];
  /** The sink of output `shard` (0-based, 0 unless the plan splits), block `ulid`. */
  sink: (shard: number, ulid: string) => S;
  /** How series of different inputs merge (default "1:1"): Prometheus' merge, or Thanos' penalty dedup. */
  dedup?: DedupMode;
  /**
   * The replica labels the plan was made with: removed from series labels, and from the inputs' external labels when
   * they are checked.
   */
  replicaLabels?: readonly string[];
  /** ULID of the first output (default: a new one); other shards get new ULIDs with the same time. */
  ulid?: string;
  /** Split plans only: write just these outputs (0-based), as a retry that found the others does. */
  shards?: readonly number[];
  /** Run on each written output before it is committed; throwing abandons it (and every output not yet committed). */
  check?: (output: PlanOutput<S>) => Promise<void>;
  /** Stops the job: every write checks it, and nothing is committed once it fired. */
  signal?: AbortSignal;
  /** Series penalty dedup treats as counters (default: names ending _total, _count, _bucket). */
  isCounter?: (labels: Labels) => boolean;
  segmentSize?: number;
  /** Override the index format limits (tests). */
  indexLimits?: IndexLimits;
}

export interface PlanResult<S extends OutputSink = OutputSink> extends Omit<CompactResult, "outputs"> {
  /** The committed outputs, by shard: one, none when no sample was left, or one per shard that got series. */
  outputs: PlanOutput<S>[];
}

export async function executePlan<S extends OutputSink>(plan: Plan, io: PlanIO<S>): Promise<PlanResult<S>> {
  checkPlan(plan, io.sources.length, io.shards);
  const split = plan.kind === "split";
  const s = runSettings({
    dedup: io.dedup,
    replicaLabels: io.replicaLabels,
    shards: split ? plan.shardCount : undefined,
    onlyShards: io.shards && new Set(io.shards),
    ulid: io.ulid,
    isCounter: io.isCounter,
    segmentSize: io.segmentSize,
    indexLimits: io.indexLimits,
  });
  // Every sink asked for, until committed: on failure these are aborted.
  const open: S[] = [];
  const given = new Map<BlockSink, S>();
  const sinkFor = (shard: number, ulid: string): BlockSink => {
    const sink = io.sink(shard, ulid);
    open.push(sink);
    const w = stoppableSink(sink, io.signal);
    given.set(w, sink);
    return w;
  };
  try {
    io.signal?.throwIfAborted();
    const r = await withReaders(io.sources, (readers, openMs) => {
      const metas = readers.map((x) => x.meta);
      checkPlanInputs(plan, metas, s.replicaLabels);
      const metaFor = (ulid: string, shard: number) => planOutputMeta(plan, metas, ulid, shard);
      return runCompaction(
        readers,
        sinkFor,
        { ...s, minTime: plan.window.minTime, maxTime: plan.window.maxTime },
        metaFor,
        openMs,
      );
    });
    const outputs: PlanOutput<S>[] = [];
    // One at a time, each visible once committed: a crash in between leaves whole outputs.
    for (const o of r.outputs) {
      const out: PlanOutput<S> = { ...o, sink: given.get(o.sink)! };
      io.signal?.throwIfAborted();
      await io.check?.(out);
      io.signal?.throwIfAborted();
      await out.sink.commit();
      open.splice(open.indexOf(out.sink), 1);
      outputs.push(out);
    }
    return { ...r, outputs };
  } catch (e) {
    for (const sink of open) await sink.abort().catch(() => undefined);
    throw e;
  }
}
