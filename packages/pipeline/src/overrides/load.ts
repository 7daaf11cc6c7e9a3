/**
 * Reading and writing the overrides document through the ObjectStore port.
 *
 * `OverridesSource` is what a worker process keeps (a Lambda container keeps it in module
 * state, with the bindings): at most one HEAD per `ttlMs`, and a GET only when the ETag
 * changed. A bad document (too large, not JSON, a schema error) is logged once per ETag,
 * with the problem, and the overrides already in force stay; on the first load that means
 * the environment's settings alone, and the line says so. A deleted document means no
 * overrides.
 */
import type { ObjectStore, PreconditionFailedError } from "@strata/bucket";
import type { Logger } from "../ports.ts";
import { MAX_OVERRIDES_BYTES, NO_OVERRIDES, OVERRIDES_KEY, encodeOverrides, parseOverrides } from "./schema.ts";
import type { OverridesDocument } from "./schema.ts";

/** How long a worker trusts the document it read before asking for its ETag again. */
export const OVERRIDES_TTL_MS = 30_000;

export interface OverridesSourceOptions {
  log?: Logger;
  now?: () => number;
  ttlMs?: number;
}

export class OverridesSource {
  private doc: OverridesDocument = NO_OVERRIDES;
  /** The ETag of the document in force ("" for none), and of the last bad one reported. */
  private etag = "";
  private badEtag = "";
  private checkedAt = Number.NEGATIVE_INFINITY;
  private pending: Promise<OverridesDocument> | undefined;

  private readonly store: ObjectStore;
  private readonly opts: OverridesSourceOptions;

  constructor(store: ObjectStore, opts: OverridesSourceOptions = {}) {
    this.store = store;
    this.opts = opts;
  }

  /** The document in force, re-read when its ETag changed and the TTL has passed. */
  current(): Promise<OverridesDocument> {
    const now = (this.opts.now ?? Date.now)();
    if (now - this.checkedAt < (this.opts.ttlMs ?? OVERRIDES_TTL_MS)) return Promise.resolve(this.doc);
    // Concurrent jobs of one process share one refresh.
    this.pending ??= this.refresh(now).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async refresh(now: number): Promise<OverridesDocument> {
    const head = await this.store.head(OVERRIDES_KEY);
    this.checkedAt = now;
    if (!head) {
      if (this.etag !== "") this.opts.log?.info("overrides-removed", { key: OVERRIDES_KEY });
      this.doc = NO_OVERRIDES;
      this.etag = this.badEtag = "";
      return this.doc;
    }
    if (head.etag !== "" && (head.etag === this.etag || head.etag === this.badEtag)) return this.doc;
    const r = await readOverrides(this.store);
    if (r.ok) {
      this.doc = r.doc;
      this.etag = r.etag;
      this.opts.log?.info("overrides-loaded", {
        key: OVERRIDES_KEY,
        etag: r.etag,
        tenants: Object.keys(r.doc.tenants ?? {}).length,
      });
    } else if (r.etag !== this.badEtag || r.etag === "") {
      this.badEtag = r.etag;
      this.opts.log?.error("overrides-invalid", {
        key: OVERRIDES_KEY,
        error: r.error,
        keeping:
          this.etag === ""
            ? "no overrides: the environment's settings for every tenant"
            : `the overrides of ETag ${this.etag}`,
      });
    }
    return this.doc;
  }
}

export type ReadOverrides =
  | { ok: true; doc: OverridesDocument; etag: string; exists: boolean }
  | { ok: false; error: string; etag: string };

/** The document and its ETag (`exists: false` and the empty document when there is none). */
export async function readOverrides(store: ObjectStore): Promise<ReadOverrides> {
  const head = await store.head(OVERRIDES_KEY);
  if (!head) return { ok: true, doc: NO_OVERRIDES, etag: "", exists: false };
  if (head.size > MAX_OVERRIDES_BYTES)
    return {
      ok: false,
      etag: head.etag,
      error: `${OVERRIDES_KEY}: ${head.size} bytes, more than the ${MAX_OVERRIDES_BYTES}-byte limit`,
    };
  const got = await store.get(OVERRIDES_KEY);
  if (!got) return { ok: true, doc: NO_OVERRIDES, etag: "", exists: false };
  const bytes = got.body;
  const r = parseOverrides(bytes);
  const etag = got.etag || head.etag;
  return r.ok ? { ok: true, doc: r.doc, etag, exists: true } : { ok: false, error: r.error, etag };
}

/**
 * Write `doc` if the stored document is still the one of `etag` ("" = none yet): a compare-
 * and-swap, so two operators' edits never overwrite each other. Resolves to the new ETag, or
 * the PreconditionFailedError when someone else wrote first.
 */
export async function writeOverrides(
  store: ObjectStore,
  doc: OverridesDocument,
  etag: string,
): Promise<string | PreconditionFailedError> {
  const body = encodeOverrides(doc);
  return store.put(OVERRIDES_KEY, body, {
    ...(etag === "" ? { ifNoneMatch: "*" as const } : { ifMatch: etag }),
    contentType: "application/json",
  });
}
