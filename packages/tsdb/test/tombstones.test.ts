import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { crc32c } from "../src/encoding/crc32c.ts";
import { FormatError } from "../src/encoding/errors.ts";
import { MemoryBlock } from "../src/encoding/memory-block.ts";
import {
  addInterval,
  decodeTombstones,
  EMPTY_TOMBSTONES,
  encodeTombstones,
  isDeleted,
  readTombstones,
  Tombstones,
  type Interval,
} from "../src/tombstones/tombstones.ts";
import { mulberry32 } from "@strata/testkit";

function unhex(s: string): Uint8Array {
  const h = s.replace(/[^0-9a-fA-F]/g, "");
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** A tombstones file around the given entry bytes, with a correct CRC. */
function file(entries: Uint8Array, version = 1): Uint8Array {
  const out = new Uint8Array(5 + entries.length + 4);
  out.set([0x01, 0x30, 0xba, 0x30, version]);
  out.set(entries, 5);
  new DataView(out.buffer).setUint32(5 + entries.length, crc32c(entries));
  return out;
}

function expectFormatError(fn: () => unknown, code: string, offset?: number): FormatError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(FormatError);
  const fe = err as FormatError;
  expect(fe.code).toBe(code);
  expect(fe.file).toBe("tombstones");
  if (offset !== undefined) expect(fe.offset).toBe(offset);
  return fe;
}

const MIN = -(2 ** 63);
const MAX = 2 ** 63; // the double MaxInt64 reads as

describe("interval merging (Prometheus Intervals.Add cases)", () => {
  const iv = (mint: number, maxt: number): Interval => ({ mint, maxt });
  const cases: [Interval[], Interval, Interval[]][] = [
    [[], iv(1, 2), [iv(1, 2)]],
    [[iv(1, 2)], iv(1, 2), [iv(1, 2)]],
    [[iv(1, 4), iv(6, 6)], iv(5, 6), [iv(1, 6)]],
    [[iv(1, 10), iv(12, 20), iv(25, 30)], iv(21, 25), [iv(1, 10), iv(12, 30)]],
    [[iv(1, 10), iv(12, 20), iv(25, 30)], iv(22, 23), [iv(1, 10), iv(12, 20), iv(22, 23), iv(25, 30)]],
    [[iv(1, 2), iv(3, 5), iv(7, 7)], iv(6, 7), [iv(1, 2), iv(3, 7)]],
    [[iv(1, 10), iv(12, 20), iv(25, 30)], iv(18, 23), [iv(1, 10), iv(12, 23), iv(25, 30)]],
    [[iv(1, 10), iv(12, 20), iv(25, 30)], iv(9, 23), [iv(1, 23), iv(25, 30)]],
    [[iv(1, 10), iv(12, 20), iv(25, 30)], iv(9, 230), [iv(1, 230)]],
    [[iv(5, 10), iv(12, 20), iv(25, 30)], iv(1, 4), [iv(1, 10), iv(12, 20), iv(25, 30)]],
    [[iv(5, 10), iv(12, 20), iv(25, 30)], iv(11, 14), [iv(5, 20), iv(25, 30)]],
    [[iv(5, 10), iv(12, 20), iv(25, 30)], iv(1, 3), [iv(1, 3), iv(5, 10), iv(12, 20), iv(25, 30)]],
    [[iv(5, 10), iv(12, 20), iv(25, 30)], iv(35, 40), [iv(5, 10), iv(12, 20), iv(25, 30), iv(35, 40)]],
    [[], iv(MIN, 2), [iv(MIN, 2)]],
    [[iv(MIN, 2)], iv(9, MAX), [iv(MIN, 2), iv(9, MAX)]],
    [[iv(9, MAX)], iv(MIN, 2), [iv(MIN, 2), iv(9, MAX)]],
    [[iv(9, MAX)], iv(MIN, 10), [iv(MIN, MAX)]],
    [[iv(9, 10)], iv(MIN, 7), [iv(MIN, 7), iv(9, 10)]],
    [[iv(9, 10)], iv(12, MAX), [iv(9, 10), iv(12, MAX)]],
    [[iv(9, 10)], iv(MIN, 8), [iv(MIN, 10)]],
    [[iv(9, 10)], iv(11, MAX), [iv(9, MAX)]],
  ];
  it.each(cases.map((c, i) => [i, ...c] as const))("case %i", (_i, exist, add, exp) => {
    const list = exist.map((x) => ({ ...x }));
    addInterval(list, { ...add });
    expect(list).toEqual(exp);
  });

  it("matches a brute-force set model on random adds (seeded)", () => {
    const rnd = mulberry32(7);
    for (let round = 0; round < 200; round++) {
      const t = new Tombstones();
      const covered = new Set<number>();
      for (let k = 0; k < 12; k++) {
        const a = Math.floor(rnd() * 200);
        const b = a + Math.floor(rnd() * 15);
        t.add(5, { mint: a, maxt: b });
        for (let x = a; x <= b; x++) covered.add(x);
      }
      const list = t.get(5)!;
      for (let i = 1; i < list.length; i++) expect(list[i]!.mint).toBeGreaterThan(list[i - 1]!.maxt + 1); // disjoint, not adjacent
      let mismatches = 0;
      for (let x = -1; x <= 220; x++) if (isDeleted(list, x) !== covered.has(x)) mismatches++;
      expect(mismatches).toBe(0);
      expect(t.total()).toBe(list.length);
    }
  });
});

describe("Tombstones", () => {
  it("tracks refs, totals and lookups", () => {
    const t = new Tombstones();
    t.add(9, { mint: 10, maxt: 20 });
    t.add(2, { mint: 0, maxt: 0 });
    t.add(9, { mint: 21, maxt: 30 }); // adjacent → merged
    t.add(9, { mint: 50, maxt: 60 });
    expect(t.refs()).toEqual([2, 9]);
    expect(t.size).toBe(2);
    expect(t.total()).toBe(3);
    expect(t.get(9)).toEqual([
      { mint: 10, maxt: 30 },
      { mint: 50, maxt: 60 },
    ]);
    expect(t.get(3)).toBeUndefined();
    expect(isDeleted(t.get(9), 30)).toBe(true);
    expect(isDeleted(t.get(9), 31)).toBe(false);
    expect(isDeleted(t.get(9), 50)).toBe(true);
    expect(isDeleted(undefined, 50)).toBe(false);
  });
});

describe("tombstones file", () => {
  it("encodes nothing as the canonical 9-byte empty file", () => {
    expect(Array.from(EMPTY_TOMBSTONES)).toEqual([0x01, 0x30, 0xba, 0x30, 0x01, 0, 0, 0, 0]);
    expect(encodeTombstones(new Tombstones())).toEqual(EMPTY_TOMBSTONES);
    expect(decodeTombstones(EMPTY_TOMBSTONES).total()).toBe(0);
  });

  it("lays entries out as uvarint ref | varint mint | varint maxt, refs ascending", () => {
    const t = new Tombstones();
    t.add(300, { mint: -1, maxt: 1 });
    t.add(1, { mint: 1000, maxt: 2000 });
    expect(encodeTombstones(t)).toEqual(file(unhex("01 D00F A01F  AC02 01 02")));
  });

  it("merges repeated refs on decode", () => {
    const t = decodeTombstones(file(unhex("05 02 04  05 06 08  05 14 28")));
    expect(t.get(5)).toEqual([
      { mint: 1, maxt: 4 },
      { mint: 10, maxt: 20 },
    ]);
    expect(t.total()).toBe(2);
  });

  it("round-trips random tombstones (seeded)", () => {
    const rnd = mulberry32(42);
    for (let round = 0; round < 50; round++) {
      const t = new Tombstones();
      const n = Math.floor(rnd() * 30);
      for (let i = 0; i < n; i++) {
        const ref = Math.floor(rnd() * 1e6);
        const mint = Math.floor((rnd() - 0.5) * 2 ** 53);
        const maxt = mint + Math.floor(rnd() * 1e9);
        t.add(ref, { mint: Math.max(mint, Number.MIN_SAFE_INTEGER), maxt: Math.min(maxt, Number.MAX_SAFE_INTEGER) });
      }
      const bytes = encodeTombstones(t);
      const back = decodeTombstones(bytes);
      expect(back.refs()).toEqual(t.refs());
      for (const ref of t.refs()) expect(back.get(ref)).toEqual(t.get(ref));
      expect(encodeTombstones(back)).toEqual(bytes);
    }
  });

  it("keeps int64 extremes and reads Prometheus' API min/max times as near doubles", () => {
    const t = new Tombstones();
    t.add(1, { mint: MIN, maxt: MAX });
    const bytes = encodeTombstones(t);
    // zigzag(MinInt64) = 2^64-1, zigzag(MaxInt64) = 2^64-2: ten-byte varints.
    expect(bytes.subarray(5, bytes.length - 4)).toEqual(unhex("01  FFFFFFFFFFFFFFFFFF01  FEFFFFFFFFFFFFFFFF01"));
    expect(decodeTombstones(bytes).get(1)).toEqual([{ mint: MIN, maxt: MAX }]);

    // Prometheus' v1 API deletes with start = (MinInt64/1000 + 62135596801) * 1000 ms.
    const apiMin = (-9223372036854775n + 62135596801n) * 1000n;
    const z = apiMin < 0n ? (-apiMin << 1n) - 1n : apiMin << 1n;
    const vb: number[] = [];
    for (let v = z; ; v >>= 7n) {
      if (v < 0x80n) {
        vb.push(Number(v));
        break;
      }
      vb.push(Number(v & 0x7fn) | 0x80);
    }
    const got = decodeTombstones(file(Uint8Array.of(4, ...vb, 0xc6, 0x01))).get(4)!;
    expect(got).toEqual([{ mint: Number(apiMin), maxt: 99 }]);
    expect(isDeleted(got, -1_700_000_000_000)).toBe(true);
    expect(isDeleted(got, 100)).toBe(false);
  });

  it("reads a missing file as empty", async () => {
    const blk = new MemoryBlock();
    expect((await readTombstones(blk)).total()).toBe(0);
    blk.files.set("tombstones", file(unhex("02 00 0A")));
    expect((await readTombstones(blk)).get(2)).toEqual([{ mint: 0, maxt: 5 }]);
  });
});

describe("tombstones file corruption", () => {
  it("rejects short files, bad magic and CRC mismatches", () => {
    expectFormatError(() => decodeTombstones(EMPTY_TOMBSTONES.subarray(0, 8)), "invalid-size", 0);
    const bad = EMPTY_TOMBSTONES.slice();
    bad[0] = 0x02;
    expect(expectFormatError(() => decodeTombstones(bad), "bad-magic", 0).message).toContain("0x0130ba30");
    const f = file(unhex("02 00 0A"));
    f[6]! ^= 1;
    expectFormatError(() => decodeTombstones(f), "invalid-checksum", f.length - 4);
  });

  it("excludes the version byte from the CRC and then rejects version ≠ 1", () => {
    const f = file(unhex("02 00 0A"), 2);
    // The CRC over the entries alone still matches, so the error is about the version.
    expectFormatError(() => decodeTombstones(f), "unsupported-version", 4);
  });

  it("rejects entries cut short, even with a matching CRC", () => {
    expectFormatError(() => decodeTombstones(file(unhex("02 00"))), "invalid-size");
    expectFormatError(() => decodeTombstones(file(unhex("02 00 80"))), "invalid-size");
    expectFormatError(() => decodeTombstones(file(unhex("02 00 FFFFFFFFFFFFFFFFFF7F"))), "invalid-value");
  });
});

describe("tombstones.md", () => {
  it("keeps its example bytes in step with the codec", () => {
    const doc = readFileSync(new URL("../docs/format/tombstones.md", import.meta.url), "utf8");
    const m = /<!-- example: tombstones -->\s*```[a-z]*\n([\s\S]*?)```/.exec(doc);
    expect(m).not.toBeNull();
    const bytes = unhex(
      m![1]!
        .split("\n")
        .map((l) => l.replace(/#.*$/, ""))
        .join(" "),
    );
    const t = decodeTombstones(bytes);
    expect(t.get(3)).toEqual([{ mint: 1000, maxt: 2000 }]);
    expect(t.get(7)).toEqual([{ mint: MIN, maxt: 99 }]);
    expect(encodeTombstones(t)).toEqual(bytes);
  });
});
