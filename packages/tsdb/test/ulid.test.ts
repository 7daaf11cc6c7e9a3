import { describe, expect, it } from "vitest";
import {
  compareUlids,
  isUlid,
  newUlid,
  normalizeUlid,
  ulidTime,
  ULID_ALPHABET,
  ULID_MAX_TIME,
} from "../src/meta/ulid.ts";
import { mulberry32 } from "@strata/testkit";

/** Independent reference: the 128-bit value as a BigInt, printed 5 bits at a time. */
function referenceUlid(time: number, random: Uint8Array): string {
  let v = BigInt(time);
  for (const b of random) v = (v << 8n) | BigInt(b);
  let s = "";
  for (let i = 0; i < 26; i++) {
    s = ULID_ALPHABET[Number(v & 31n)] + s;
    v >>= 5n;
  }
  return s;
}

const zeros = new Uint8Array(10);

describe("newUlid", () => {
  it("matches oklog/ulid vectors", () => {
    // oklog/ulid TestAlizainCompatibility.
    expect(newUlid(1469918176385, zeros)).toBe("01ARYZ6S410000000000000000");
    // Thanos meta_test.go uses ulid.MustNew(t, nil) = time t, zero entropy.
    expect(newUlid(5, zeros)).toBe("00000000050000000000000000");
    expect(newUlid(1, zeros)).toBe("00000000010000000000000000");
    expect(newUlid(0, zeros)).toBe("00000000000000000000000000");
    expect(newUlid(ULID_MAX_TIME, new Uint8Array(10).fill(0xff))).toBe("7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
  });

  it("agrees with a BigInt reference on random input (seeded)", () => {
    const rnd = mulberry32(11);
    for (let i = 0; i < 500; i++) {
      const t = Math.floor(rnd() * ULID_MAX_TIME);
      const r = Uint8Array.from({ length: 10 }, () => (rnd() * 256) | 0);
      const id = newUlid(t, r);
      expect(id).toBe(referenceUlid(t, r));
      expect(isUlid(id)).toBe(true);
      expect(ulidTime(id)).toBe(t);
    }
  });

  it("defaults to now and crypto randomness", () => {
    const before = Date.now();
    const a = newUlid();
    const b = newUlid();
    expect(a).not.toBe(b);
    expect(ulidTime(a)).toBeGreaterThanOrEqual(before);
    expect(ulidTime(a)).toBeLessThanOrEqual(Date.now());
  });

  it("rejects out-of-range input", () => {
    expect(() => newUlid(-1)).toThrow(RangeError);
    expect(() => newUlid(2 ** 48)).toThrow(RangeError);
    expect(() => newUlid(1.5)).toThrow(RangeError);
    expect(() => newUlid(0, new Uint8Array(9))).toThrow(RangeError);
  });
});

describe("isUlid / ulidTime / compareUlids", () => {
  it("validates like oklog's strict parse", () => {
    expect(isUlid("01ARYZ6S410000000000000000")).toBe(true);
    expect(isUlid("01aryz6s410000000000000000")).toBe(true); // lower case accepted
    expect(isUlid("7ZZZZZZZZZZZZZZZZZZZZZZZZZ")).toBe(true);
    expect(isUlid("8ZZZZZZZZZZZZZZZZZZZZZZZZZ")).toBe(false); // > 128 bits
    for (const c of ["I", "L", "O", "U", "-", " ", "é"])
      expect(isUlid("0" + c + "ARYZ6S41000000000000000".padEnd(24, "0"))).toBe(false);
    expect(isUlid("01ARYZ6S41000000000000000")).toBe(false);
    expect(isUlid("01ARYZ6S4100000000000000000")).toBe(false);
    expect(normalizeUlid("01aryz6s410000000000000000")).toBe("01ARYZ6S410000000000000000");
    expect(ulidTime("01aryz6s410000000000000000")).toBe(1469918176385);
    expect(() => ulidTime("nope")).toThrow(RangeError);
  });

  it("orders by the 128-bit value, case-insensitively", () => {
    expect(compareUlids("01ARYZ6S410000000000000000", "01aryz6s410000000000000000")).toBe(0);
    expect(compareUlids("00000000010000000000000000", "00000000020000000000000000")).toBe(-1);
    expect(compareUlids("0000000002000000000000000Z", "00000000020000000000000000")).toBe(1);
    const rnd = mulberry32(5);
    const ids = Array.from({ length: 200 }, () => {
      const t = Math.floor(rnd() * 1e13);
      const r = Uint8Array.from({ length: 10 }, () => (rnd() * 256) | 0);
      const id = newUlid(t, r);
      return rnd() < 0.5 ? id.toLowerCase() : id;
    });
    const byValue = [...ids].sort((a, b) => {
      const x = BigInt(ulidTime(a)) * 2n ** 80n + rest(a);
      const y = BigInt(ulidTime(b)) * 2n ** 80n + rest(b);
      return x < y ? -1 : x > y ? 1 : 0;
    });
    expect([...ids].sort(compareUlids)).toEqual(byValue);
  });
});

function rest(id: string): bigint {
  let v = 0n;
  for (const c of id.slice(10).toUpperCase()) v = v * 32n + BigInt(ULID_ALPHABET.indexOf(c));
  return v;
}
