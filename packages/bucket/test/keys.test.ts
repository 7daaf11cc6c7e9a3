import { describe, expect, it } from "vitest";
import {
  MAX_TENANT_BYTES,
  RESERVED_TENANT_NAMES,
  ROOT_TENANT,
  ROOT_TENANT_NAME,
  isValidTenant,
  parseBlockKey,
  quoteName,
  tenantFromName,
  tenantName,
  tenantProblem,
} from "../src/keys.ts";
import { testUlid } from "./fixtures.ts";

const B = testUlid(1);
const T = testUlid(2); // a ULID-shaped tenant name

describe("tenant names", () => {
  it("accepts ordinary names, up to 150 bytes of UTF-8", () => {
    for (const t of [
      "team-a",
      "a",
      "Team_1",
      "a.b",
      "a..b",
      "_x",
      "x__",
      "tenant with spaces",
      "é",
      "租户",
      "a".repeat(150),
      "é".repeat(75),
      "🙂".repeat(37),
    ]) {
      expect(tenantProblem(t), t).toBeUndefined();
      expect(isValidTenant(t)).toBe(true);
    }
  });

  it.each([
    ["", "tenant is empty"],
    ["a".repeat(151), "tenant is 151 bytes of UTF-8, more than 150"],
    ["é".repeat(76), "tenant is 152 bytes of UTF-8, more than 150"],
    ["🙂".repeat(38), "tenant is 152 bytes of UTF-8, more than 150"],
    ["a/b", "tenant must not contain '/'"],
    ["/", "tenant must not contain '/'"],
    ["a\u0000b", "tenant contains a control character (U+0000) at character 1"],
    ["a\nb", "tenant contains a control character (U+000A) at character 1"],
    ["a\u001fb", "tenant contains a control character (U+001F) at character 1"],
    ["a\u007f", "tenant contains a control character (U+007F) at character 1"],
    ["\u0085a", "tenant contains a control character (U+0085) at character 0"],
    ["a\u009f", "tenant contains a control character (U+009F) at character 1"],
    ["a\u061cb", "tenant contains a bidirectional formatting character (U+061C) at character 1"],
    ["a\u200eb", "tenant contains a bidirectional formatting character (U+200E) at character 1"],
    ["a\u200fb", "tenant contains a bidirectional formatting character (U+200F) at character 1"],
    ["a\u202ab", "tenant contains a bidirectional formatting character (U+202A) at character 1"],
    ["evil\u202Etxt.exe", "tenant contains a bidirectional formatting character (U+202E) at character 4"],
    ["a\u2066b", "tenant contains a bidirectional formatting character (U+2066) at character 1"],
    ["a\u2069b", "tenant contains a bidirectional formatting character (U+2069) at character 1"],
    ["a\u200bb", "tenant contains a zero-width character (U+200B) at character 1"],
    ["a\u200db", "tenant contains a zero-width character (U+200D) at character 1"],
    ["\ufeffa", "tenant contains a zero-width character (U+FEFF) at character 0"],
    ["🙂\ud800", "tenant contains a lone surrogate (not valid UTF-8) (U+D800) at character 1"],
    [".", "tenant must not be '.' or '..'"],
    ["..", "tenant must not be '.' or '..'"],
    [".x", "tenant must not start with '.'"],
    [".strata", "tenant must not start with '.'"],
    ["__x", "tenant must not start with '__' (reserved)"],
    ["__root__", "tenant must not start with '__' (reserved)"],
    ["__markers__", "tenant must not start with '__' (reserved)"],
    [T, "tenant is ULID-shaped (the name of a block folder)"],
    [T.toLowerCase(), "tenant is ULID-shaped (the name of a block folder)"],
    ["markers", `tenant "markers" is a reserved name (written at a tenant's or the bucket's root)`],
    ["leases", `tenant "leases" is a reserved name (written at a tenant's or the bucket's root)`],
    [
      "bucket-index.json.gz",
      `tenant "bucket-index.json.gz" is a reserved name (written at a tenant's or the bucket's root)`,
    ],
    [
      "bucket-index-sync-status.json",
      `tenant "bucket-index-sync-status.json" is a reserved name (written at a tenant's or the bucket's root)`,
    ],
    ["debug", `tenant "debug" is a reserved name (written at a tenant's or the bucket's root)`],
  ])("rejects %j: %s", (name, reason) => {
    expect(tenantProblem(name)).toBe(reason);
    expect(isValidTenant(name)).toBe(false);
  });

  it("reserves every name written at a tenant's root, and caps at Mimir's 150", () => {
    expect(MAX_TENANT_BYTES).toBe(150);
    for (const n of ["markers", "leases", "bucket-index.json.gz", "debug", "__markers__"])
      expect(RESERVED_TENANT_NAMES).toContain(n);
    // Names near the reserved ones are fine: the rule is exact.
    expect(tenantProblem("Markers")).toBeUndefined();
    expect(tenantProblem("markers2")).toBeUndefined();
  });

  it("quotes names for messages with every forbidden character escaped", () => {
    expect(quoteName("a\u202Eb\u0085c\u200bd")).toBe('"a\\u202eb\\u0085c\\u200bd"');
    expect(quoteName('x"y')).toBe('"x\\"y"');
  });
});

describe("block keys", () => {
  it("parses <tenant>/<ULID>/<file…> and the root layout <ULID>/<file…>", () => {
    expect(parseBlockKey(`team-a/${B}/meta.json`, "")).toEqual({ tenant: "team-a", block: B, file: "meta.json" });
    expect(parseBlockKey(`team-a/${B}/chunks/000001`, "")).toEqual({
      tenant: "team-a",
      block: B,
      file: "chunks/000001",
    });
    expect(parseBlockKey(`${B}/meta.json`, "")).toEqual({ tenant: "", block: B, file: "meta.json" });
    expect(parseBlockKey(`${B}/chunks/000001`, "__root__")).toEqual({
      tenant: "__root__",
      block: B,
      file: "chunks/000001",
    });
    // The ULID as written: callers that need the canonical form check it.
    expect(parseBlockKey(`t/${B.toLowerCase()}/index`, "")).toEqual({
      tenant: "t",
      block: B.toLowerCase(),
      file: "index",
    });
  });

  it("a top-level folder of ULID folders is a (ULID-shaped, so invalid) tenant, never a root block", () => {
    expect(parseBlockKey(`${T}/${B}/meta.json`, "")).toEqual({
      reason: `top-level folder "${T}" holds block folders, so it is a tenant, not a root block; and a tenant must not be ULID-shaped`,
      tenantShapedFolder: T,
    });
    expect(parseBlockKey(`${T.toLowerCase()}/${B}/chunks/000001`, "")).toMatchObject({
      tenantShapedFolder: T.toLowerCase(),
    });
    // A file named like a ULID directly in a block folder is still a block file.
    expect(parseBlockKey(`${T}/${B}`, "")).toEqual({ tenant: "", block: T, file: B });
  });

  it.each([
    ["meta.json", "expected <tenant>/<ULID>/<file> or <ULID>/<file>; found no folder"],
    [`${B}/`, `expected <tenant>/<ULID>/<file> or <ULID>/<file>; found no file under the block folder "${B}"`],
    [`t/${B}/`, `expected <tenant>/<ULID>/<file> or <ULID>/<file>; found no file under the block folder "${B}"`],
    [
      "t/bucket-index.json.gz",
      `expected <tenant>/<ULID>/<file> or <ULID>/<file>; found "t"/ then a file, not a block folder`,
    ],
    [
      "t/not-a-ulid/meta.json",
      `expected <tenant>/<ULID>/<file> or <ULID>/<file>; folder "not-a-ulid" under tenant "t" is not a ULID`,
    ],
    [
      `a/b/${B}/meta.json`,
      `expected <tenant>/<ULID>/<file> or <ULID>/<file>; folder "b" under tenant "a" is not a ULID`,
    ],
    [
      `markers/${B}/meta.json`,
      `"markers" is not a valid tenant: tenant "markers" is a reserved name (written at a tenant's or the bucket's root)`,
    ],
    [
      `leases/${B}/meta.json`,
      `"leases" is not a valid tenant: tenant "leases" is a reserved name (written at a tenant's or the bucket's root)`,
    ],
    [`__x/${B}/meta.json`, `"__x" is not a valid tenant: tenant must not start with '__' (reserved)`],
    [`.x/${B}/meta.json`, `".x" is not a valid tenant: tenant must not start with '.'`],
    [`./${B}/meta.json`, `"." is not a valid tenant: tenant must not be '.' or '..'`],
    [`/${B}/meta.json`, `"" is not a valid tenant: tenant is empty`],
    [
      `a\u202Eb/${B}/meta.json`,
      `"a\\u202eb" is not a valid tenant: tenant contains a bidirectional formatting character (U+202E) at character 1`,
    ],
  ])("rejects %j: %s", (key, reason) => {
    expect(parseBlockKey(key, "")).toEqual({ reason });
  });

  it("a tenant-layout key cannot name the root tenant", () => {
    expect(parseBlockKey(`anonymous/${B}/meta.json`, "anonymous")).toEqual({
      reason: `"anonymous" names the bucket-root tenant, whose blocks sit at <ULID>/<file>`,
    });
    expect(parseBlockKey(`anonymous/${B}/meta.json`, "")).toEqual({ tenant: "anonymous", block: B, file: "meta.json" });
  });
});

describe("the root tenant", () => {
  it('is "" on the queue and in ports, named __root__ for people; no uploaded tenant is either', () => {
    expect([ROOT_TENANT, ROOT_TENANT_NAME]).toEqual(["", "__root__"]);
    expect(isValidTenant(ROOT_TENANT) || isValidTenant(ROOT_TENANT_NAME)).toBe(false);
    expect([tenantName(ROOT_TENANT), tenantName("team-a")]).toEqual(["__root__", "team-a"]);
    expect([tenantFromName(ROOT_TENANT_NAME), tenantFromName("team-a")]).toEqual(["", "team-a"]);
  });
});
