import { describe, expect, it } from "vitest";
import { jsonLogger } from "@strata/pipeline";

describe("jsonLogger", () => {
  it("writes one JSON object per line with the bound fields", () => {
    const lines: string[] = [];
    const log = jsonLogger(
      (l) => lines.push(l),
      { service: "strata" },
      () => 0,
    ).child({ tenant: "t", jobId: "m-1" });
    log.info("job-done", { block: "B", bytes: 12n });
    log.error("job-failed", { error: "boom" });
    expect(lines.every((l) => !l.includes("\n"))).toBe(true);
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      {
        time: "1970-01-01T00:00:00.000Z",
        level: "info",
        event: "job-done",
        service: "strata",
        tenant: "t",
        jobId: "m-1",
        block: "B",
        bytes: "12",
      },
      {
        time: "1970-01-01T00:00:00.000Z",
        level: "error",
        event: "job-failed",
        service: "strata",
        tenant: "t",
        jobId: "m-1",
        error: "boom",
      },
    ]);
  });
});
