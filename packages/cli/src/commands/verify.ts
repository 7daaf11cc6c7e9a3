import { newUlid } from "@strata/tsdb";
import { NotRepairableError, formatProblem, repairBlock, verifyBlock, type VerifyReport } from "@strata/verify";
import type { Command } from "../command.ts";
import { UsageError } from "../command.ts";
import { BlockArgs, type BlockArg } from "../block-args.ts";
import { openBlockOutput, type BlockOutput } from "../block-out.ts";

export const verifyCommand: Command = {
  summary: "check blocks against every format invariant; --repair writes fixed copies",
  usage: "verify <block-dir|block-url>... [--json] [--max-range 14d] [--repair --out <dir|bucket-url/tenant>]",
  options: {
    json: { type: "boolean" },
    repair: { type: "boolean" },
    out: { type: "string" },
    "max-range": { type: "string" },
  },
  optionHelp: {
    json: "one JSON report per block",
    "max-range":
      "longest span a block may have (MetaRangeTooLong past it; default 14d, the largest compaction range: a Prometheus-compacted local block may need 31d)",
    repair: "write a fixed copy of each block whose problems are all repairable",
    out: "where --repair writes: a directory, or a tenant in a bucket (s3://bucket[/prefix]/<tenant>, file:///path/<tenant>)",
  },
  details: async () =>
    [
      "Each block is a directory or a block URL (s3://bucket[/prefix]/<tenant>/<ULID>, file:///path/<tenant>/<ULID>;",
      "__root__ is the tenant of blocks at the bucket root), verified in place with ranged GETs. One line per",
      "problem with its code, file and offset; exit 1 when a block fails. A repaired copy written into a bucket",
      "streams straight to the store, meta.json last, and its URL is printed.",
      "",
      "Examples:",
      "  strata verify ./data/01JB3Y8ZK6M0N4R2T5V7W9X1Y3 ./data/01JB3YD1R0WQ4KX6S2N8C5T7V9",
      "  strata verify s3://metrics/team-a/01JB3Y8ZK6M0N4R2T5V7W9X1Y3 --json",
      "  strata verify s3://metrics/team-a/01JB3Y8ZK6M0N4R2T5V7W9X1Y3 --repair --out s3://metrics/team-a",
    ].join("\n"),
  run: async (dirs, values) => {
    if (dirs.length === 0) throw new UsageError("at least one block directory or block URL is required");
    let maxRangeMs: number | undefined;
    if (values["max-range"] !== undefined) {
      const { parseDuration } = await import("@strata/tsdb");
      try {
        maxRangeMs = parseDuration(String(values["max-range"]), "--max-range");
      } catch (e) {
        throw new UsageError((e as Error).message, { cause: e });
      }
    }
    const outArg = values.out as string | undefined;
    if (values.repair && !outArg) throw new UsageError("--repair needs --out <dir|bucket-url/tenant>");
    if (outArg && !values.repair) throw new UsageError("--out is only used with --repair");
    // Every argument is checked (and every URL's block found) before any is verified.
    const args = new BlockArgs({ progress: "verifying" });
    let out: BlockOutput | undefined;
    try {
      const blocks: BlockArg[] = [];
      for (const d of dirs) blocks.push(await args.open(d));
      if (values.repair) out = await openBlockOutput(outArg);
      return await verifyAll(blocks, {
        maxRangeMs,
        out,
        json: values.json === true,
        beforeOutput: () => args.endProgress(),
      });
    } finally {
      await out?.close();
      await args.close();
    }
  },
};

async function verifyAll(
  blocks: BlockArg[],
  opts: { maxRangeMs?: number; out?: BlockOutput; json: boolean; beforeOutput: () => void },
): Promise<number> {
  const reports: VerifyReport[] = [];
  const repaired: string[] = [];
  const lines: string[] = [];
  let failed = false;
  for (const { name, source, expectedUlid, release } of blocks) {
    const report = await verifyBlock(source, {
      expectedUlid,
      ...(opts.maxRangeMs !== undefined ? { maxRangeMs: opts.maxRangeMs } : {}),
    });
    reports.push(report);
    for (const p of report.problems) lines.push(formatProblem(name, p));
    for (const [code, n] of Object.entries(report.counts)) {
      const shown = report.problems.filter((p) => p.code === code).length;
      if (n! > shown) lines.push(`${name}: ${code}: ${n! - shown} more not shown`);
    }
    if (!report.ok) failed = true;
    if (opts.out && !report.ok) {
      const sink = opts.out.sink(newUlid());
      try {
        await repairBlock(source, sink, report, { ulid: sink.ulid });
        repaired.push(await sink.commit());
      } catch (e) {
        await sink.abort();
        if (!(e instanceof NotRepairableError)) throw e;
        lines.push(`${name}: not repaired: ${e.message}`);
      }
    }
    release();
  }
  opts.beforeOutput();
  if (opts.json) {
    process.stdout.write(
      JSON.stringify(opts.out ? { reports, repaired } : reports.length === 1 ? reports[0] : reports, null, 2) + "\n",
    );
  } else {
    for (const l of lines) process.stdout.write(l + "\n");
    for (const r of reports)
      if (r.ok)
        process.stdout.write(
          `${r.block}: ok (${r.stats.series} series, ${r.stats.chunks} chunks, ${r.stats.samples} samples)\n`,
        );
    for (const d of repaired) process.stdout.write(d + "\n");
  }
  // Repaired blocks were written: the originals still failed verification.
  return failed ? 1 : 0;
}
