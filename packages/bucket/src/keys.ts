/**
 * The one owner of the bucket's key grammar and of the tenant-name rule. Every reader of
 * keys (the layout's listings, the pipeline's S3 events and block listings, `strata plan`'s
 * directory walk) asks here, so that what an upload may create, what a listing reports and
 * what the schedule visits are the same set.
 *
 * Keys are `<tenant>/<ULID>/<file…>`, or `<ULID>/<file…>` for the bucket-root tenant
 * (Thanos' single-tenant layout). A top-level folder that holds ULID folders is a tenant,
 * never a root block: a ULID-shaped tenant is not valid, so such a folder is neither.
 */
import { isUlid } from "@strata/tsdb";

/**
 * The tenant whose blocks sit at the bucket root, Thanos' single-tenant layout (`<ULID>/…`,
 * no tenant prefix): the empty name. Job messages, S3 events, the pipeline's ports and its
 * log lines carry this; `tenantProblem` refuses "", so no uploaded tenant can be it.
 */
export const ROOT_TENANT = "";

/**
 * The root tenant's name where an empty one cannot stand: typed as `--tenant __root__`,
 * printed by the CLI, and the `rootTenant` of a `BucketLayout` built without one (keys and
 * listings then name the root tenant so). `__` names are reserved, so no uploaded tenant
 * can be it either. Never written to the bucket or sent on the queue.
 */
export const ROOT_TENANT_NAME = "__root__";

/** A tenant as people read it: the root tenant as ROOT_TENANT_NAME, any other as itself. */
export function tenantName(tenant: string): string {
  return tenant === ROOT_TENANT ? ROOT_TENANT_NAME : tenant;
}

/** The tenant a name people typed stands for: ROOT_TENANT_NAME is the root tenant. */
export function tenantFromName(name: string): string {
  return name === ROOT_TENANT_NAME ? ROOT_TENANT : name;
}

/** Mimir's limit on a tenant id, here in bytes of UTF-8. */
export const MAX_TENANT_BYTES = 150;

/**
 * Names Strata, Mimir or Thanos write at a tenant's root, which is the bucket root for the
 * root tenant, so a tenant of that name would collide with them: the bucket index, the
 * global markers, the job leases and the meta cache (Strata, Mimir), Cortex's parquet markers, Mimir's index sync status, Thanos'
 * `debug/` metas, Mimir's and Thanos' `__markers__`. (`.strata/`, the directory store's
 * locks, and every other `.`/`__` name are excluded by the prefix rules.)
 */
export const RESERVED_TENANT_NAMES: readonly string[] = [
  "bucket-index.json.gz",
  "bucket-index-sync-status.json",
  "strata-meta-cache.json.gz",
  "markers",
  "parquet-markers",
  "leases",
  "debug",
  "__markers__",
];

/** The code points a tenant must not contain besides `/`: controls, then bidi and invisible formatting characters. */
function forbiddenKind(cp: number): string | undefined {
  if (cp <= 0x1f || cp === 0x7f || (cp >= 0x80 && cp <= 0x9f)) return "control character";
  if (
    cp === 0x061c ||
    cp === 0x200e ||
    cp === 0x200f ||
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2066 && cp <= 0x2069)
  ) {
    return "bidirectional formatting character";
  }
  if ((cp >= 0x200b && cp <= 0x200d) || cp === 0xfeff) return "zero-width character";
  if (cp >= 0xd800 && cp <= 0xdfff) return "lone surrogate (not valid UTF-8)";
  return undefined;
}

const hex = (cp: number) => "U+" + cp.toString(16).toUpperCase().padStart(4, "0");

/**
 * A name quoted for messages and logs: JSON string syntax, with every character the tenant
 * rule forbids written as an escape, so a bidi override cannot reorder the line it is in.
 */
export function quoteName(s: string): string {
  let out = "";
  for (const ch of JSON.stringify(s)) {
    const cp = ch.codePointAt(0)!;
    out += forbiddenKind(cp) ? `\\u${cp.toString(16).padStart(4, "0")}` : ch;
  }
  return out;
}

/** Byte length of `s` in UTF-8 (lone surrogates count as U+FFFD, 3 bytes). */
function utf8Length(s: string): number {
  let n = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return n;
}

/**
 * Why `name` cannot be a tenant, or undefined when it can: 1–150 bytes of UTF-8, no `/`,
 * no control (C0, DEL, C1), bidi or zero-width characters, not `.`/`..`, not starting with
 * `.` or `__`, not ULID-shaped (any case), not a reserved name.
 */
export function tenantProblem(name: string): string | undefined {
  if (typeof name !== "string") return "tenant is not a string";
  if (name === "") return "tenant is empty";
  const bytes = utf8Length(name);
  if (bytes > MAX_TENANT_BYTES) return `tenant is ${bytes} bytes of UTF-8, more than ${MAX_TENANT_BYTES}`;
  if (name.includes("/")) return "tenant must not contain '/'";
  let i = 0;
  for (const ch of name) {
    const cp = ch.codePointAt(0)!;
    const kind = forbiddenKind(cp);
    if (kind) return `tenant contains a ${kind} (${hex(cp)}) at character ${i}`;
    i++;
  }
  if (name === "." || name === "..") return "tenant must not be '.' or '..'";
  if (name.startsWith(".")) return "tenant must not start with '.'";
  if (name.startsWith("__")) return "tenant must not start with '__' (reserved)";
  if (isUlid(name)) return "tenant is ULID-shaped (the name of a block folder)";
  if (RESERVED_TENANT_NAMES.includes(name))
    return `tenant ${quoteName(name)} is a reserved name (written at a tenant's or the bucket's root)`;
  return undefined;
}

export function isValidTenant(name: string): boolean {
  return tenantProblem(name) === undefined;
}

/**
 * A key under a block folder: the tenant (`rootTenant` for the root layout), the block's ULID as written in the key,
 * the file below it.
 */
export interface BlockKey {
  tenant: string;
  block: string;
  /** The path below the block folder: `meta.json`, `index`, `chunks/000001`, … (never empty). */
  file: string;
}

/**
 * Why a key is not a block file; `tenantShapedFolder` is set when it lies in a ULID-shaped top-level folder of ULID
 * folders.
 */
export interface NotABlockKey {
  reason: string;
  /** The top-level ULID-shaped folder that holds ULID folders (a tenant-shaped folder, never a root block). */
  tenantShapedFolder?: string;
}

const EXPECTED = "expected <tenant>/<ULID>/<file> or <ULID>/<file>";

/**
 * Parses `<tenant>/<ULID>/<file…>` and the root layout `<ULID>/<file…>` (tenant
 * `rootTenant`). `<ULID>/<ULID>/…` is a tenant-shaped key (a ULID-shaped tenant, which is
 * not valid), never a root block. The ULID is returned as written (any case, as oklog
 * parses it); callers that need the canonical upper-case form check it themselves.
 */
export function parseBlockKey(key: string, rootTenant: string): BlockKey | NotABlockKey {
  const parts = key.split("/");
  if (parts.length < 2) return { reason: `${EXPECTED}; found no folder` };
  // Two parts at least (checked just above): a split never yields holes.
  const first = parts[0]!;
  const second = parts[1]!;
  if (isUlid(first)) {
    if (parts.length >= 3 && isUlid(second)) {
      return {
        reason: `top-level folder ${quoteName(first)} holds block folders, so it is a tenant, not a root block; and a tenant must not be ULID-shaped`,
        tenantShapedFolder: first,
      };
    }
    const file = parts.slice(1).join("/");
    if (!file) return { reason: `${EXPECTED}; found no file under the block folder ${quoteName(first)}` };
    return { tenant: rootTenant, block: first, file };
  }
  const problem = tenantProblem(first);
  if (problem) return { reason: `${quoteName(first)} is not a valid tenant: ${problem}` };
  if (first === rootTenant)
    return { reason: `${quoteName(first)} names the bucket-root tenant, whose blocks sit at <ULID>/<file>` };
  if (parts.length < 3) return { reason: `${EXPECTED}; found ${quoteName(first)}/ then a file, not a block folder` };
  if (!isUlid(second))
    return { reason: `${EXPECTED}; folder ${quoteName(second)} under tenant ${quoteName(first)} is not a ULID` };
  const file = parts.slice(2).join("/");
  if (!file) return { reason: `${EXPECTED}; found no file under the block folder ${quoteName(second)}` };
  return { tenant: first, block: second, file };
}
