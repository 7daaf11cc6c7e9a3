// `strata mark` / `strata unmark`: write or remove a block's deletion, no-compact or
// no-downsample marker (both copies, and the bucket index's deletion marks) through
// @strata/pipeline's `markBlocks` / `unmarkBlocks`; this file parses flags and prints.
import { tenantName } from "@strata/bucket";
import { isUlid } from "@strata/tsdb";
import type { MarkKind, MarkOutcome } from "@strata/pipeline/operations";
import { openBucketArg } from "../bucket-args.ts";
import type { Command } from "../command.ts";
import { UsageError } from "../command.ts";
import { tenantOption } from "./ls.ts";

const KINDS = ["deletion", "no-compact", "no-downsample"] as const;

const COMMON_HELP = {
  tenant: "the blocks' tenant (required; __root__ for blocks at the bucket root)",
  block: "a block's ULID (repeatable, at least one)",
  "dry-run": "print what would be written or removed; change nothing",
};

export const markCommand: Command = {
  summary: "mark blocks for deletion, no-compact or no-downsample (both marker copies and the bucket index)",
  usage:
    "mark deletion|no-compact|no-downsample <bucket-url> --tenant T --block ULID... [--reason R] [--details D] [--dry-run] [--force]",
  options: {
    tenant: { type: "string" },
    block: { type: "string", multiple: true },
    reason: { type: "string" },
    details: { type: "string" },
    "dry-run": { type: "boolean" },
    force: { type: "boolean" },
  },
  optionHelp: {
    ...COMMON_HELP,
    reason: "no-compact and no-downsample marks: the reason field (default manual, as Thanos writes for a person)",
    details: "free text stored in the mark's details field",
    force:
      "mark for deletion even the last copy of a range (no other live, verified, indexed block holds its data) or a block without meta.json; replace a mark whose reason or details differ",
  },
  details: async () =>
    [
      "The marker is written next to the block (<tenant>/<ULID>/<file>) and under <tenant>/markers/<ULID>-<file>, in",
      "Thanos' format; a deletion mark is also recorded in the tenant's bucket-index.json.gz. The compactor deletes a",
      "block marked for deletion after the delete delay (STRATA_DELETE_DELAY); no-compact and no-downsample keep the",
      "planner away from it. A mark already there is left alone (exit 0) unless --reason or --details differ (exit 1",
      "without --force). Marking the last copy of a range for deletion is refused (exit 1) without --force.",
      "",
      "Examples:",
      "  strata mark no-compact s3://strata-blocks --tenant demo --block 01J0000000000000000000000A --details 'investigating'",
      "  strata mark deletion s3://strata-blocks --tenant demo --block 01J0000000000000000000000A --dry-run",
    ].join("\n"),
  run: (positionals, values) => runMark("mark", positionals, values),
};

export const unmarkCommand: Command = {
  summary: "remove blocks' deletion, no-compact or no-downsample markers (both copies and the bucket index)",
  usage: "unmark deletion|no-compact|no-downsample <bucket-url> --tenant T --block ULID... [--dry-run] [--force]",
  options: {
    tenant: { type: "string" },
    block: { type: "string", multiple: true },
    "dry-run": { type: "boolean" },
    force: { type: "boolean" },
  },
  optionHelp: {
    ...COMMON_HELP,
    force:
      "remove a quarantine (no-compact reason strata-verify-failed; `strata quarantine release` is the way back) or the deletion mark of a block whose meta.json is already gone",
  },
  details: async () =>
    [
      "Removes the marker next to the block and its copy under <tenant>/markers/; unmarking deletion also drops the",
      "block's deletion mark from the bucket index. A marker that is not there is reported and is not an error.",
      "",
      "Examples:",
      "  strata unmark deletion s3://strata-blocks --tenant demo --block 01J0000000000000000000000A",
      "  strata unmark no-compact file:///data/bucket --tenant team-a --block 01J0000000000000000000000A --dry-run",
    ].join("\n"),
  run: (positionals, values) => runMark("unmark", positionals, values),
};

async function runMark(
  name: "mark" | "unmark",
  [kind, url, ...extra]: string[],
  values: Record<string, unknown>,
): Promise<number> {
  if (!(KINDS as readonly string[]).includes(kind ?? ""))
    throw new UsageError(`expected ${KINDS.join(", ")}, got ${JSON.stringify(kind ?? "")}`);
  if (!url) throw new UsageError("a bucket URL is required (file:///path or s3://bucket[/prefix])");
  if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  const tenant = tenantOption(values.tenant, true);
  const blocks = ((values.block as string[] | undefined) ?? []).map((b) => {
    if (!isUlid(b)) throw new UsageError(`--block: expected a block ULID, got ${JSON.stringify(b)}`);
    return b.toUpperCase();
  });
  if (blocks.length === 0) throw new UsageError("--block ULID is required (repeat it for several blocks)");
  if (kind === "deletion" && values.reason !== undefined)
    throw new UsageError("--reason: a deletion mark has no reason field (Thanos' format); use --details");
  const store = await openBucketArg(url);
  try {
    const ops = await import("@strata/pipeline/operations");
    const req = {
      tenant,
      blocks,
      kind: kind as MarkKind,
      dryRun: values["dry-run"] === true,
      force: values.force === true,
    };
    const outcomes: MarkOutcome[] =
      name === "mark"
        ? await ops.markBlocks(store, {
            ...req,
            reason: values.reason as string | undefined,
            details: values.details as string | undefined,
          })
        : await ops.unmarkBlocks(store, req);
    for (const o of outcomes) {
      const line = `${tenantName(tenant)}/${o.block}: ${o.message}\n`;
      if (o.ok) process.stdout.write(line);
      else process.stderr.write(`strata ${name}: ${line}`);
    }
    return outcomes.every((o) => o.ok) ? 0 : 1;
  } finally {
    await store.close?.();
  }
}
