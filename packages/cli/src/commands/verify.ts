import { mkdir, stat } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { isUlid, newUlid } from "@strata/tsdb";
import { DirBlockSink, DirBlockSource } from "@strata/tsdb/node";
import { NotRepairableError, formatProblem, repairBlock, verifyBlock, type VerifyReport } from "@strata/verify";
import type { Command } from "../command.ts";
import { UsageError } from "../command.ts";

export const verifyCommand: Command = {
  summary: "check blocks against every format invariant; --repair writes fixed copies",
  usage: "verify <block-dir>... [--json] [--max-range 14d] [--repair --out <dir>]",
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
    out: "where --repair writes",
  },
  async run(dirs, values) {
    if (dirs.length === 0) throw new UsageError("at least one block directory is required");
    let maxRangeMs: number | undefined;
    if (values["max-range"] !== undefined) {
      const { parseDuration } = await import("@strata/tsdb");
      try {
        maxRangeMs = parseDuration(String(values["max-range"]), "--max-range");
      } catch (e) {
        throw new UsageError((e as Error).message, { cause: e });
      }
    }
    const outDir = values.out as string | undefined;
    if (values.repair && !outDir) throw new UsageError("--repair needs --out <dir>");
    if (outDir && !values.repair) throw new UsageError("--out is only used with --repair");
    for (const d of dirs) {
      const st = await stat(d).catch(() => undefined);
      if (!st?.isDirectory()) throw new UsageError(`${d}: not a directory`);
    }
    const reports: VerifyReport[] = [];
    const repaired: string[] = [];
    const lines: string[] = [];
    let failed = false;
    for (const dir of dirs) {
      const source = new DirBlockSource(dir);
      const name = basename(resolve(dir));
      const report = await verifyBlock(source, {
        expectedUlid: isUlid(name) ? name : undefined,
        ...(maxRangeMs !== undefined ? { maxRangeMs } : {}),
      });
      reports.push(report);
      for (const p of report.problems) lines.push(formatProblem(dir, p));
      for (const [code, n] of Object.entries(report.counts)) {
        const shown = report.problems.filter((p) => p.code === code).length;
        if (n! > shown) lines.push(`${dir}: ${code}: ${n! - shown} more not shown`);
      }
      if (!report.ok) failed = true;
      if (values.repair && !report.ok) {
        await mkdir(outDir!, { recursive: true });
        const sink = new DirBlockSink(outDir!, newUlid());
        try {
          await repairBlock(source, sink, report, { ulid: sink.ulid });
          repaired.push(await sink.commit());
        } catch (e) {
          await sink.abort();
          if (!(e instanceof NotRepairableError)) throw e;
          lines.push(`${dir}: not repaired: ${e.message}`);
        }
      }
    }
    if (values.json) {
      process.stdout.write(
        JSON.stringify(values.repair ? { reports, repaired } : reports.length === 1 ? reports[0] : reports, null, 2) +
          "\n",
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
  },
};
