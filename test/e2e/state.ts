// What a store gateway, an operator and the queue see once the pipeline has settled: each
// tenant's bucket index, the live blocks with their meta.json, the markers and reports in the
// bucket, and what is left in the queues. Read-only; the assertions are in expect-state.ts.
import { GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { BucketIndexReader, BucketLayout, listAll, type BucketIndex, type ObjectStore } from "@strata/bucket";
import {
  DELETION_MARK_FILE,
  NO_COMPACT_MARK_FILE,
  parseMeta,
  parseMarker,
  type BlockMeta,
  type NoCompactMark,
} from "@strata/tsdb";
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, type LocalRuntime } from "@strata/local";
import { VERIFY_REPORT_FILE } from "@strata/pipeline";

export interface LiveBlock {
  ulid: string;
  meta: BlockMeta;
}

export interface TenantState {
  tenant: string;
  index: BucketIndex;
  /** Indexed blocks without a deletion mark (in the index or the bucket), by minTime. */
  live: LiveBlock[];
  /** Every object key under the tenant's prefix. */
  keys: Set<string>;
}

export interface QueueState {
  visible: number;
  inFlight: number;
  /** Bodies of messages still in the queue (received with a zero visibility timeout, so left in place). */
  bodies: string[];
}

export interface RuntimeState {
  tenants: Map<string, TenantState>;
  jobs: QueueState;
  dlq: QueueState;
}

const layout = new BucketLayout();

export function blockKey(tenant: string, ulid: string, file: string): string {
  return layout.blockFile(tenant, ulid, file);
}

export function globalMarkerKey(
  tenant: string,
  ulid: string,
  file: typeof DELETION_MARK_FILE | typeof NO_COMPACT_MARK_FILE,
): string {
  return layout.globalMarkerKey(tenant, ulid, file);
}

async function text(store: ObjectStore, key: string): Promise<string | undefined> {
  const r = await store.get(key);
  return r ? new TextDecoder().decode(r.body) : undefined;
}

export async function readTenant(store: ObjectStore, tenant: string, now?: () => number): Promise<TenantState> {
  // The reader a store gateway uses, with its default 1h staleness limit: it throws
  // BucketIndexTooOldError if the pipeline let the index go stale (`now`: the pipeline's clock).
  const reader = new BucketIndexReader(store, { now });
  await reader.getBlocks(tenant, 0, Number.MAX_SAFE_INTEGER);
  const index = await reader.getIndex(tenant);
  if (!index) throw new Error(`tenant ${tenant} has no bucket index (${layout.indexKey(tenant)})`);
  const keys = new Set<string>();
  for await (const o of listAll(store, layout.tenantPrefix(tenant))) keys.add(o.key);
  const marked = new Set(index.block_deletion_marks.map((m) => m.block_id));
  const live: LiveBlock[] = [];
  for (const b of index.blocks) {
    if (marked.has(b.block_id) || keys.has(blockKey(tenant, b.block_id, DELETION_MARK_FILE))) continue;
    const body = await text(store, blockKey(tenant, b.block_id, "meta.json"));
    if (body === undefined)
      throw new Error(`tenant ${tenant}: indexed block ${b.block_id} has no meta.json in the bucket`);
    live.push({ ulid: b.block_id, meta: parseMeta(body, blockKey(tenant, b.block_id, "meta.json")) });
  }
  live.sort((x, y) => x.meta.minTime - y.meta.minTime || x.meta.maxTime - y.meta.maxTime);
  return { tenant, index, live, keys };
}

export async function readNoCompactMark(
  store: ObjectStore,
  tenant: string,
  ulid: string,
): Promise<NoCompactMark | undefined> {
  const body = await text(store, blockKey(tenant, ulid, NO_COMPACT_MARK_FILE));
  return body === undefined ? undefined : parseMarker(NO_COMPACT_MARK_FILE, body);
}

export async function readReport(store: ObjectStore, tenant: string, ulid: string): Promise<string | undefined> {
  return text(store, blockKey(tenant, ulid, VERIFY_REPORT_FILE));
}

function sqsClient(rt: LocalRuntime): SQSClient {
  return new SQSClient({
    endpoint: rt.endpoint,
    region: EMULATOR_REGION,
    credentials: EMULATOR_CREDENTIALS,
    useQueueUrlAsEndpoint: false,
  });
}

async function readQueue(sqs: SQSClient, url: string): Promise<QueueState> {
  const a = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  const visible = Number(a.Attributes?.ApproximateNumberOfMessages ?? "0");
  const inFlight = Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? "0");
  const bodies: string[] = [];
  if (visible > 0) {
    const r = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 0, WaitTimeSeconds: 0 }),
    );
    for (const m of r.Messages ?? []) bodies.push(m.Body ?? "");
  }
  return { visible, inFlight, bodies };
}

export async function readRuntimeState(
  rt: LocalRuntime,
  tenants: readonly string[],
  now?: () => number,
): Promise<RuntimeState> {
  const sqs = sqsClient(rt);
  try {
    // The queues first, right after the caller's waitForIdle: a schedule running on an interval
    // (meta-first) refills them within a second, and reading the tenants takes longer than that.
    const jobs = await readQueue(sqs, rt.queueUrl);
    const dlq = await readQueue(sqs, rt.dlqUrl);
    const out = new Map<string, TenantState>();
    for (const t of tenants) out.set(t, await readTenant(rt.s3, t, now));
    return { tenants: out, jobs, dlq };
  } finally {
    sqs.destroy();
  }
}
