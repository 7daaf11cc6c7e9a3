import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ALARMS, runbookMarkdown } from "@strata/lambda/deploy";

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe("the README's runbook", () => {
  it("is the one the alarms are defined with (regenerate it from runbookMarkdown())", () => {
    const m = /<!-- runbook:start -->\n([\s\S]*?)<!-- runbook:end -->/.exec(README);
    expect(m, "README.md has no runbook section").not.toBeNull();
    expect(m![1]).toBe(runbookMarkdown());
  });

  it("has the heading each alarm's description links to", () => {
    for (const a of ALARMS) expect(README).toContain(`\n#### alarm-${a.id}\n`);
  });
});
