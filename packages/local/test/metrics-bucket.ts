// The web-bucket scenario (web-bucket.ts) plus team-c, a tenant with a backlog: five indexed
// 2h level-1 blocks (two 8h windows' worth: the first window complete, so one compaction is
// pending) and one uploaded block not indexed yet (the upload lag).
import { BucketIndexUpdater, type ObjectStore } from "@strata/bucket";
import { pipelineLayout } from "@strata/pipeline";
import { serializeMeta } from "@strata/tsdb";
import { T0, twoHourBlock } from "@strata/testkit/pipeline";
import { seedBucket, type Seeded } from "./web-bucket.ts";

export interface MetricsSeeded extends Seeded {
  cLive: string[];
  cPending: string;
}

export async function seedMetricsBucket(store: ObjectStore): Promise<MetricsSeeded> {
  const seeded = await seedBucket(store);
  const layout = pipelineLayout();
  const index = new BucketIndexUpdater(store, { layout });
  const labels = { cluster: "c" };
  const cLive: string[] = [];
  for (let i = 0; i < 5; i++) {
    const m = twoHourBlock(i, labels);
    await store.put(layout.metaKey("team-c", m.ulid), serializeMeta(m, { style: "thanos" }));
    await index.addBlock("team-c", m.ulid);
    cLive.push(m.ulid);
  }
  const p = twoHourBlock(6, labels);
  await store.put(layout.metaKey("team-c", p.ulid), serializeMeta(p, { style: "thanos" }));
  void T0;
  return { ...seeded, cLive, cPending: p.ulid };
}
