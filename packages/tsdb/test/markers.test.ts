import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FormatError } from "../src/encoding/errors.ts";
import {
  DELETION_MARK_FILE,
  NO_COMPACT_MARK_FILE,
  NO_DOWNSAMPLE_MARK_FILE,
  NoCompactReason,
  parseMarker,
  serializeMarker,
  type MarkerFile,
} from "../src/meta/markers.ts";

const ID = "01H8ZQ0M1N2P3Q4R5S6T7V8W9X";

function expectMarkerError(file: MarkerFile, text: string, pathPart: string): void {
  let err: unknown;
  try {
    parseMarker(file, text);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(FormatError);
  expect((err as FormatError).code).toBe("invalid-value");
  expect((err as FormatError).file).toBe(file);
  expect((err as FormatError).message).toContain(pathPart);
}

describe("marker files", () => {
  it("writes deletion-mark.json exactly as Thanos (reference example)", () => {
    const text = `{"id":"${ID}","version":1,"details":"compacted","deletion_time":1700000000}`;
    const m = parseMarker(DELETION_MARK_FILE, text);
    expect(m).toEqual({ id: ID, version: 1, details: "compacted", deletion_time: 1700000000 });
    expect(serializeMarker(DELETION_MARK_FILE, m)).toBe(text);
    // details is omitempty.
    expect(serializeMarker(DELETION_MARK_FILE, { id: ID, version: 1, details: "", deletion_time: 5 })).toBe(
      `{"id":"${ID}","version":1,"deletion_time":5}`,
    );
  });

  it("writes no-compact and no-downsample marks in struct order", () => {
    expect(
      serializeMarker(NO_COMPACT_MARK_FILE, {
        id: ID,
        version: 1,
        details: "index > 64GiB & <growing>",
        no_compact_time: 1700000001,
        reason: NoCompactReason.IndexSizeExceeding,
      }),
    ).toBe(
      `{"id":"${ID}","version":1,"details":"index \\u003e 64GiB \\u0026 \\u003cgrowing\\u003e","no_compact_time":1700000001,"reason":"index-size-exceeding"}`,
    );
    expect(
      serializeMarker(NO_DOWNSAMPLE_MARK_FILE, { id: ID, version: 1, no_downsample_time: 7, reason: "manual" }),
    ).toBe(`{"id":"${ID}","version":1,"no_downsample_time":7,"reason":"manual"}`);
  });

  it("round-trips every no-compact reason and accepts unknown ones", () => {
    for (const reason of [...Object.values(NoCompactReason), "something-new"]) {
      const text = serializeMarker(NO_COMPACT_MARK_FILE, { id: ID, version: 1, no_compact_time: 1, reason });
      expect(parseMarker(NO_COMPACT_MARK_FILE, text).reason).toBe(reason);
    }
  });

  it("reads like Go: any key order, unknown keys ignored, missing scalars as zero values, lower-case id", () => {
    const m = parseMarker(
      NO_COMPACT_MARK_FILE,
      new TextEncoder().encode(`{"reason":"manual","extra":[1],"version":1,"id":"${ID.toLowerCase()}"}`),
    );
    expect(m).toEqual({ id: ID, version: 1, no_compact_time: 0, reason: "manual" });
    expect(parseMarker(DELETION_MARK_FILE, `{"id":"${ID}","version":1,"details":null}`)).toEqual({
      id: ID,
      version: 1,
      deletion_time: 0,
    });
  });

  it("rejects other versions, bad ids and bad JSON", () => {
    expectMarkerError(DELETION_MARK_FILE, `{"id":"${ID}","version":2,"deletion_time":1}`, "version");
    expectMarkerError(DELETION_MARK_FILE, `{"id":"${ID}","deletion_time":1}`, "version");
    expectMarkerError(NO_DOWNSAMPLE_MARK_FILE, `{"id":"nope","version":1}`, "id");
    expectMarkerError(NO_COMPACT_MARK_FILE, `{"id":"${ID}","version":1,"no_compact_time":1.5}`, "no_compact_time");
    expectMarkerError(NO_COMPACT_MARK_FILE, `{"id":"${ID}",`, "not valid JSON");
  });

  it("keeps the example in meta.md valid", () => {
    const doc = readFileSync(new URL("../docs/format/meta.md", import.meta.url), "utf8");
    const m = /<!-- example: deletion-mark -->\s*```json\n([\s\S]*?)\n```/.exec(doc);
    expect(m).not.toBeNull();
    expect(serializeMarker(DELETION_MARK_FILE, parseMarker(DELETION_MARK_FILE, m![1]!))).toBe(m![1]);
  });
});
