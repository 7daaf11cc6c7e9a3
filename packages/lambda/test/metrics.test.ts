// The Metrics port over EMF (Powertools): one EMF record per value, the catalogue's name and
// unit, the labels (the tenant among them) as the record's dimensions.
import { afterEach, describe, expect, it, vi } from "vitest";
import { Metrics as PowertoolsMetrics } from "@aws-lambda-powertools/metrics";
import { lambdaRuntime, powertoolsMetrics } from "@strata/lambda";

describe("EMF metrics", () => {
  afterEach(() => vi.restoreAllMocks());

  it("carry the tenant, type and outcome as dimensions, with the catalogue's unit", () => {
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const m = powertoolsMetrics(new PowertoolsMetrics({ namespace: "Strata", serviceName: "strata" }));
    m.observe("strata_job_duration_seconds", 2.5, { type: "compact", outcome: "done", tenant: "team-a" });
    m.add("strata_job_read_bytes_total", 2048, { type: "compact", tenant: "team-b" });
    m.add("strata_invalid_messages_total", 1, {});
    spy.mockRestore();
    const records = lines
      .flatMap((l) => l.split("\n"))
      .filter((l) => l.includes("_aws"))
      .map((l) => JSON.parse(l));
    expect(records).toHaveLength(3);
    const [d, b, inv] = records;
    expect(d).toMatchObject({ type: "compact", outcome: "done", tenant: "team-a", strata_job_duration_seconds: 2.5 });
    expect(d._aws.CloudWatchMetrics[0].Metrics).toEqual([{ Name: "strata_job_duration_seconds", Unit: "Seconds" }]);
    expect(d._aws.CloudWatchMetrics[0].Dimensions[0]).toEqual(
      expect.arrayContaining(["service", "type", "outcome", "tenant"]),
    );
    expect(b).toMatchObject({ tenant: "team-b", strata_job_read_bytes_total: 2048 });
    expect(b._aws.CloudWatchMetrics[0].Metrics[0].Unit).toBe("Bytes");
    expect(inv._aws.CloudWatchMetrics[0].Dimensions[0]).toEqual(["service"]);
  });

  it("the Lambda runtime binds the tenant gauges (reported after each index re-sync)", () => {
    const rt = lambdaRuntime({ STRATA_BUCKET: "b", STRATA_QUEUE_URL: "http://127.0.0.1:1/q", AWS_REGION: "us-east-1" });
    expect(rt.deps.tenantGauges).toBeTypeOf("function");
    expect(rt.deps.metrics).toBeDefined();
  });
});
