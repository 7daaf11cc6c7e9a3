import { describe, expect, it } from "vitest";
import { XOREncoder } from "../src/index.ts";

describe("XOREncoder.bytesInto (aggregate chunks assembled in one buffer)", () => {
  it("writes exactly enc.bytes() at any offset, leaving the bytes around it alone", () => {
    const enc = new XOREncoder();
    const backing = new Uint8Array(4096).fill(0xaa);
    const view = new DataView(backing.buffer);
    const out = backing.subarray(3); // unaligned view over the same bytes
    for (const n of [0, 1, 2, 3, 17, 240]) {
      enc.reset();
      for (let i = 0; i < n; i++)
        enc.append(1_700_000_000_000 + i * 300_000 + (i % 7 === 0 ? 13 : 0), i % 5 === 0 ? NaN : Math.sin(i) * 1e6);
      const want = enc.bytes();
      for (const at of [0, 1, 5, 70]) {
        out.fill(0xaa);
        const end = enc.bytesInto(out, view, at);
        expect(end).toBe(at + want.length);
        expect(out.subarray(at, end)).toEqual(want);
        expect(out[at - 1] ?? 0xaa).toBe(0xaa);
        expect(out[end]).toBe(0xaa);
      }
    }
  });

  it("refuses a destination that is too small", () => {
    const enc = new XOREncoder();
    enc.append(1, 2);
    const out = new Uint8Array(4);
    expect(() => enc.bytesInto(out, new DataView(out.buffer), 0)).toThrow(RangeError);
  });
});
