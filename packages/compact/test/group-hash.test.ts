// Hash vectors: XXH64 from the xxHash spec (as cespare/xxhash tests it), Thanos' group
// keys (T: pkg/compact/compact_test.go TestGroupKey), Mimir's HashBlockID values
// (M: pkg/compactor/split_merge_grouper_test.go comments).
import { describe, expect, it } from "vitest";
import { xxhash64 } from "@strata/tsdb";
import { hashBlockId, thanosGroupKey, ulidBytes } from "../src/hash/labels-hash.ts";
import { U } from "./plan-fixtures.ts";

const enc = (s: string) => new TextEncoder().encode(s);

describe("xxhash64", () => {
  it.each([
    ["", 0n, 0xef46db3751d8e999n],
    ["", 1n, 0xd5afba1336a3be4bn],
    ["a", 0n, 0xd24ec4f1a98c6e5bn],
    ["as", 0n, 0x1c330fb2d66be179n],
    ["asd", 0n, 0x631c37ce72a97393n],
    ["asdf", 0n, 0x415872f599cea71en],
    ["abc", 0n, 0x44bc2cf5ad770999n],
    ["Call me Ishmael. Some years ago--never mind how long precisely-", 0n, 0x02a2e85470d6fd96n],
    ["0123456789abcdef", 0n, 0x5c5b90c34e376d0bn],
    ["0123456789abcdef0123456789abcdef", 0n, 0x642a94958e71e6c5n],
  ])("%j seed %d", (s, seed, want) => {
    expect(xxhash64(enc(s), seed)).toBe(want);
  });
});

describe("Thanos group key", () => {
  it("matches Thanos' TestGroupKey", () => {
    expect(thanosGroupKey(0, undefined)).toBe("0@17241709254077376921");
    expect(thanosGroupKey(0, {})).toBe("0@17241709254077376921");
    expect(thanosGroupKey(0, { foo: "bar", foo1: "bar2" })).toBe("0@2124638872457683483");
    expect(thanosGroupKey(0, { foo1: "bar2", foo: "bar" })).toBe("0@2124638872457683483");
    expect(thanosGroupKey(0, { "foo/some..thing/some.thing/../": "a_b_c/bar-something-a\\metric/a\\x" })).toBe(
      "0@16590761456214576373",
    );
    expect(thanosGroupKey(300000, {})).toBe("300000@17241709254077376921");
  });
});

describe("Mimir HashBlockID", () => {
  it("matches the hashes of ulid.MustNew(n, nil)", () => {
    const want = [
      283204220, 444110359, 3253786510, 122298081, 2931974232, 3092880371, 1607589226, 2771068093, 1285776948,
      1446683087,
    ];
    expect(want.map((_, i) => hashBlockId(U(i + 1)))).toEqual(want);
  });
  it("decodes ULID text to oklog's 16 bytes", () => {
    expect([...ulidBytes(U(1))]).toEqual([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => ulidBytes("8ZZZZZZZZZZZZZZZZZZZZZZZZZ")).toThrow(/128 bits/);
    expect(() => ulidBytes("nope")).toThrow(/not a ULID/);
  });
});
