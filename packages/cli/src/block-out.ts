// Where a command writes new blocks (`--out`): a local directory, or a tenant in a bucket
// (`s3://bucket[/prefix]/<tenant>`, `file:///path/<tenant>`). Into a bucket a block streams
// through `StoreBlockSink` as the pipeline writes its outputs: chunks and index as they are
// written, meta.json last on commit, so the block is visible only when whole (as Thanos
// uploads); an abort deletes what was stored. No scratch disk either way.
import { mkdir } from "node:fs/promises";
import type { BlockSink } from "@strata/tsdb";
import { DirBlockSink } from "@strata/tsdb/node";
import { UsageError } from "./command.ts";
import { isUrlArg } from "./block-args.ts";

/** A new block being written. */
export interface OutputSink extends BlockSink {
  readonly ulid: string;
  /** Makes the block visible (meta.json last); resolves to what to print: its directory or URL. */
  commit(): Promise<string>;
  /** Removes what was written. */
  abort(): Promise<void>;
}

export interface BlockOutput {
  sink(ulid: string): OutputSink;
  close(): Promise<void>;
}

/** Opens `--out`: a directory (made if missing) or a tenant URL (malformed: usage error). */
export async function openBlockOutput(out: string | undefined, flag = "--out"): Promise<BlockOutput> {
  if (!out) throw new UsageError(`${flag} <dir|bucket-url/tenant> is required`);
  if (!isUrlArg(out)) {
    await mkdir(out, { recursive: true });
    return { sink: (ulid) => new DirBlockSink(out, ulid), close: async () => {} };
  }
  const b = await import("@strata/bucket");
  let loc: import("@strata/bucket").TenantUrl;
  try {
    loc = b.parseTenantUrl(out);
  } catch (e) {
    if (e instanceof b.BucketUrlError) throw new UsageError(`${flag}: ${e.message}`, { cause: e });
    throw e;
  }
  const store = await b.openStore(loc.bucketUrl);
  const layout = new b.BucketLayout({ rootTenant: b.ROOT_TENANT });
  return {
    sink(ulid) {
      const s = new b.StoreBlockSink(store, layout.blockPrefix(loc.tenant, ulid));
      return {
        ulid,
        create: (rel) => s.create(rel),
        commit: async () => {
          await s.commit();
          return b.blockUrl(loc.bucketUrl, loc.tenant, ulid);
        },
        abort: () => s.abort(),
      };
    },
    close: async () => {
      await store.close?.();
    },
  };
}
