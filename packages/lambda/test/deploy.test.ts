// The deploy contract: the sizing's derived numbers, the job budget they bound, the
// notification rule, and the settings the cold start refuses.
import { describe, expect, it } from "vitest";
import { parseSettings, SETTING_NAMES } from "@strata/pipeline";
import { lambdaRuntime } from "@strata/lambda";
import {
  FORWARDED_SETTINGS,
  JOBS_VISIBILITY_SECONDS,
  RUNTIME_RESERVE_BYTES,
  WORKER_LIMITS,
  WORKER_MEMORY_BYTES,
  WORKER_TIMEOUT_SECONDS,
  matchesUploadNotification,
} from "@strata/lambda/deploy";

const MiB = 2 ** 20;

describe("the worker's sizing", () => {
  it("gives the walls the job budget sits under: 10 of 15 minutes, 3008 MB less the runtime", () => {
    expect(WORKER_MEMORY_BYTES).toBe(3008 * MiB);
    expect(WORKER_LIMITS).toEqual({
      timeoutSeconds: WORKER_TIMEOUT_SECONDS,
      memoryBytes: 3008 * MiB,
      runtimeReserveBytes: RUNTIME_RESERVE_BYTES,
    });
    expect(parseSettings({}, { limits: WORKER_LIMITS }).engine.jobBudget).toEqual({
      seconds: 600,
      memoryBytes: 2544 * MiB,
      limitSeconds: 900,
      limitMemoryBytes: 2544 * MiB,
    });
    expect(JOBS_VISIBILITY_SECONDS).toBeGreaterThanOrEqual(6 * WORKER_TIMEOUT_SECONDS);
  });

  it("forwards every pipeline setting and notifies for meta.json only", () => {
    expect([...FORWARDED_SETTINGS]).toEqual(SETTING_NAMES);
    expect(matchesUploadNotification("ObjectCreated:Put", "t/01J/meta.json")).toBe(true);
    expect(matchesUploadNotification("ObjectCreated:CompleteMultipartUpload", "t/01J/index")).toBe(false);
    expect(matchesUploadNotification("ObjectRemoved:Delete", "t/01J/meta.json")).toBe(false);
  });
});

describe("the cold start", () => {
  const wiring = { STRATA_BUCKET: "b", STRATA_QUEUE_URL: "http://127.0.0.1:1/q", AWS_REGION: "us-east-1" };

  it("refuses an unknown STRATA_* variable and a malformed setting, naming them", () => {
    expect(() => lambdaRuntime({ ...wiring, STRATA_RETENTION_RAWW: "30d" })).toThrow(
      "STRATA_RETENTION_RAWW: not a Strata setting; did you mean STRATA_RETENTION_RAW?",
    );
    expect(() => lambdaRuntime({ ...wiring, STRATA_JOB_MEMORY: "4GiB" })).toThrow(
      "STRATA_JOB_MEMORY: 4GiB is more than the worker's 3008 MB",
    );
  });

  it("binds the parsed settings", () => {
    const rt = lambdaRuntime({ ...wiring, STRATA_DELETE_DELAY: "12h" });
    expect(rt.deps.config.deleteDelayMs).toBe(12 * 3_600_000);
  });
});
