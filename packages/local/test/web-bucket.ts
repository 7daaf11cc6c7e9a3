// A bucket made by hand for the page's API tests: blocks in every state the page draws.
//   team-a: two level-1 blocks of replica r1 marked for deletion (both copies of the mark,
//           and in the index) and their level-2 output, live; all three in one group once
//           the `replica` label is removed.
//   team-b: a live block, a quarantined one (report, then no-compact mark, as the verify job
//           leaves it), one whose meta.json is not JSON, and a partial upload (no meta.json).
//   root:   one block at the bucket root (Thanos' single-tenant layout), not indexed yet.
import { BucketIndexUpdater, type ObjectStore } from "@strata/bucket";
import { pipelineLayout } from "@strata/pipeline";
import { DELETION_MARK_FILE, NO_COMPACT_MARK_FILE, serializeMarker, serializeMeta, type BlockMeta } from "@strata/tsdb";
import { T0, meta, ulid } from "@strata/testkit/pipeline";

const HOUR = 3_600_000;

export interface Seeded {
  a1: string;
  a2: string;
  a3: string;
  b1: string;
  bQuarantined: string;
  bBroken: string;
  bPartial: string;
  root: string;
  deletionTime: number;
  report: unknown;
}

export async function seedBucket(store: ObjectStore): Promise<Seeded> {
  const layout = pipelineLayout();
  const index = new BucketIndexUpdater(store, { layout });
  const putMeta = (tenant: string, m: BlockMeta) =>
    store.put(layout.metaKey(tenant, m.ulid), serializeMeta(m, { style: "thanos" }));
  const putBoth = async (tenant: string, id: string, file: string, body: string) => {
    await store.put(layout.blockFile(tenant, id, file), body);
    await store.put(`${layout.markersPrefix(tenant)}${id}-${file}`, body);
  };

  const r1 = { cluster: "a", replica: "r1" };
  const a1 = meta({ minTime: T0, maxTime: T0 + 2 * HOUR, labels: r1 });
  const a2 = meta({ minTime: T0 + 2 * HOUR, maxTime: T0 + 4 * HOUR, labels: r1 });
  const a3 = meta({ minTime: T0, maxTime: T0 + 4 * HOUR, level: 2, sources: [a1.ulid, a2.ulid], labels: r1 });
  const deletionTime = Math.floor(T0 / 1000) + 3600;
  for (const m of [a1, a2, a3]) {
    await store.put(layout.blockFile("team-a", m.ulid, "index"), new Uint8Array(64));
    await putMeta("team-a", m);
    await index.addBlock("team-a", m.ulid);
  }
  for (const m of [a1, a2]) {
    const mark = { id: m.ulid, version: 1 as const, deletion_time: deletionTime };
    await putBoth("team-a", m.ulid, DELETION_MARK_FILE, serializeMarker(DELETION_MARK_FILE, mark));
    await index.addDeletionMark("team-a", m.ulid, mark);
  }

  const b1 = meta({ minTime: T0, maxTime: T0 + 2 * HOUR, labels: {} });
  await putMeta("team-b", b1);
  await index.addBlock("team-b", b1.ulid);
  const q = meta({ minTime: T0 + 2 * HOUR, maxTime: T0 + 4 * HOUR, labels: {} });
  await putMeta("team-b", q);
  const report = {
    problems: [
      {
        code: "BadChecksum",
        severity: "reject",
        file: "chunks/000001",
        offset: 13,
        message: "chunk checksum mismatch",
      },
    ],
    counts: { BadChecksum: 1 },
  };
  await store.put(layout.blockFile("team-b", q.ulid, "strata-verify-report.json"), JSON.stringify(report));
  await putBoth(
    "team-b",
    q.ulid,
    NO_COMPACT_MARK_FILE,
    serializeMarker(NO_COMPACT_MARK_FILE, {
      id: q.ulid,
      version: 1,
      no_compact_time: Math.floor(T0 / 1000),
      reason: "strata-verify-failed",
      details: "1 problem",
    }),
  );
  const bBroken = ulid(T0 + 4 * HOUR);
  await store.put(layout.metaKey("team-b", bBroken), "{not json");
  const bPartial = ulid(T0 + 6 * HOUR);
  await store.put(layout.blockFile("team-b", bPartial, "index"), new Uint8Array(16));

  const root = meta({ minTime: T0, maxTime: T0 + 2 * HOUR, labels: {} });
  await putMeta("", root);

  return {
    a1: a1.ulid,
    a2: a2.ulid,
    a3: a3.ulid,
    b1: b1.ulid,
    bQuarantined: q.ulid,
    bBroken,
    bPartial,
    root: root.ulid,
    deletionTime,
    report,
  };
}
