// `strata local` takes the deployed functions' settings: --help lists every STRATA_* variable
// of the pipeline's catalogue, and a bad value is refused with the variable's name (exit 2),
// before anything starts.
import { describe, expect, it } from "vitest";
import { PIPELINE_SETTINGS } from "@strata/pipeline";
import { REPO_ROOT, STRATA_BIN } from "@strata/testkit/cli";
import { runProcess } from "@strata/testkit/process";

const strata = (args: string[], env: Record<string, string> = {}) =>
  runProcess(process.execPath, [STRATA_BIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env } });

describe("strata local settings", () => {
  it("--help says what each option does and lists every pipeline setting and STRATA_SCHEDULE_INTERVAL", async () => {
    const r = await strata(["local", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--workers <value> +concurrent worker invocations/);
    for (const s of PIPELINE_SETTINGS) expect(r.stdout).toContain(`  ${s.name} `);
    expect(r.stdout).toContain("STRATA_SCHEDULE_INTERVAL");
  });

  it("refuses a bad setting by name before starting anything", async () => {
    const bad = await strata(["local", "--port", "0"], { STRATA_DELETE_DELAY: "two days" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("STRATA_DELETE_DELAY: expected a duration");
    const interval = await strata(["local", "--port", "0"], { STRATA_SCHEDULE_INTERVAL: "often" });
    expect(interval.code).toBe(2);
    expect(interval.stderr).toContain("STRATA_SCHEDULE_INTERVAL");
  });
});
