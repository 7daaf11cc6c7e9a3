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

  it("--s3-latency and --s3-bandwidth (or STRATA_S3_*): listed, checked by name, refused with --endpoint", async () => {
    const help = await strata(["local", "--help"]);
    expect(help.stdout).toMatch(/--s3-latency <value> +the emulator waits this long before each S3 answer/);
    expect(help.stdout).toMatch(/--s3-bandwidth <value> +the emulator paces each S3 request's and response's body/);
    const latency = await strata(["local", "--port", "0", "--s3-latency", "soon"]);
    expect(latency.code).toBe(2);
    expect(latency.stderr).toContain('--s3-latency: expected a duration like 0, 90s, 15m, 48h or 30d, found "soon"');
    const bandwidth = await strata(["local", "--port", "0"], { STRATA_S3_BANDWIDTH: "fast" });
    expect(bandwidth.code).toBe(2);
    expect(bandwidth.stderr).toContain(
      'STRATA_S3_BANDWIDTH: expected a rate like 90MB/s, 100MiB/s or 90000000, found "fast"',
    );
    const remote = await strata(["local", "--endpoint", "http://127.0.0.1:1", "--s3-latency", "20ms"]);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain("--s3-latency, --s3-bandwidth: they shape the built-in emulator");
  });
});
