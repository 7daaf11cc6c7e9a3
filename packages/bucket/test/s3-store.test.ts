import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { startS3Emulator, EMULATOR_CREDENTIALS, EMULATOR_REGION, type S3Emulator } from "@strata/emulator";
import { parseBucketUrl } from "../src/index.ts";
import { S3Store, type RetryOptions } from "../src/s3.ts";
import { conditionalWriteViolations, storeContract } from "./contract.ts";

const BUCKET = "strata-contract";

function s3(endpoint: string, retry: RetryOptions = { baseDelayMs: 5, maxDelayMs: 50 }, prefix = ""): S3Store {
  return new S3Store({
    bucket: BUCKET,
    prefix,
    clientConfig: { endpoint, credentials: EMULATOR_CREDENTIALS, region: EMULATOR_REGION },
    retry,
    partSize: 5 << 20,
  });
}

let emu: S3Emulator | undefined;
async function emulator(): Promise<S3Emulator> {
  emu ??= await startS3Emulator({ buckets: [BUCKET] });
  return emu;
}
afterAll(async () => {
  await emu?.stop();
});

storeContract("S3 over the wire (fauxqs 2.4.1 behind the conditional-write proxy)", async () => {
  const e = await emulator();
  const opened: S3Store[] = [];
  const make = () => {
    const st = s3(e.endpoint);
    opened.push(st);
    return st;
  };
  return {
    store: make(),
    another: make,
    partSize: 5 << 20,
    cleanup: async () => {
      for (const st of opened) await st.close();
    },
  };
});

describe("S3 store over the emulator", () => {
  let e: S3Emulator;
  beforeAll(async () => {
    e = await emulator();
  });

  it("the raw emulator (no proxy) violates the conditional-write contract, so the suite cannot pass without the proxy", async () => {
    const raw = s3(e.rawEndpoint);
    const violations = await conditionalWriteViolations(raw, `raw-${Date.now()}`);
    await raw.close();
    expect(violations).toContain("If-None-Match * on an existing key succeeded");
    expect(violations).toContain("If-Match with a wrong ETag succeeded");
    // And through the proxy, the same checks pass (the contract suite asserts this too).
    const viaProxy = s3(e.endpoint);
    expect(await conditionalWriteViolations(viaProxy, `proxied-${Date.now()}`)).toEqual([]);
    await viaProxy.close();
  });

  it("retries 503 SlowDown and 500s with backoff, and gives up after maxAttempts", async () => {
    const st = s3(e.endpoint, { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 20 });
    await st.put("retry/obj", "payload");
    e.proxy.injectFault({ method: "GET", path: /\/retry\/obj$/, status: 503, code: "SlowDown", count: 2 });
    e.proxy.injectFault({ method: "GET", path: /\/retry\/obj$/, status: 500, code: "InternalError", count: 1 });
    const before = e.proxy.stats.faults;
    expect(new TextDecoder().decode((await st.get("retry/obj"))!.body)).toBe("payload");
    expect(e.proxy.stats.faults - before).toBe(3);
    e.proxy.injectFault({ method: "GET", path: /\/retry\/obj$/, status: 503, code: "SlowDown", count: 10 });
    await expect(st.get("retry/obj")).rejects.toMatchObject({ name: "SlowDown" });
    e.proxy.clearFaults();
    // A lost condition is an answer, not a transient error: no retry.
    const f = e.proxy.stats.forwarded;
    const r = await st.put("retry/obj", "x", { ifNoneMatch: "*" });
    expect(r).toMatchObject({ name: "PreconditionFailed" });
    expect(e.proxy.stats.forwarded).toBe(f);
    await st.close();
  });

  it("maps a 409 ConditionalRequestConflict to a PreconditionFailedError marked as a conflict", async () => {
    const st = s3(e.endpoint);
    e.proxy.injectFault({ method: "PUT", path: /\/conflict\/obj$/, status: 409, code: "ConditionalRequestConflict" });
    const r = await st.put("conflict/obj", "x", { ifNoneMatch: "*" });
    expect(r).toMatchObject({ name: "PreconditionFailed", conflict: true });
    expect(await st.put("conflict/obj", "x", { ifNoneMatch: "*" })).toMatch(/^"/);
    await st.close();
  });

  it("keeps keys under the URL's prefix", async () => {
    const u = parseBucketUrl(`s3://${BUCKET}/some/prefix`);
    expect(u).toEqual({ kind: "s3", bucket: BUCKET, prefix: "some/prefix" });
    const st = s3(e.endpoint, undefined, "some/prefix");
    await st.put("a/b", "x");
    expect((await st.list("a/")).objects.map((o) => o.key)).toEqual(["a/b"]);
    const root = s3(e.endpoint);
    expect(await root.head("some/prefix/a/b")).toBeDefined();
    expect(st.url).toBe(`s3://${BUCKET}/some/prefix`);
    await st.close();
    await root.close();
  });

  it("signs checksummed bodies as UNSIGNED-PAYLOAD (S3 checks their CRC32) and stores them byte for byte", async () => {
    const st = s3(e.endpoint);
    const seen: { crc?: string; sha?: string }[] = [];
    st.client.middlewareStack.add(
      (next) => async (args) => {
        const h = (args.request as { method?: string; headers: Record<string, string> }).headers;
        if ((args.request as { method?: string }).method === "PUT")
          seen.push({ crc: h["x-amz-checksum-crc32"], sha: h["x-amz-content-sha256"] });
        return next(args);
      },
      { step: "finalizeRequest", priority: "low", name: "testPeekSigned" },
    );
    const body = new Uint8Array((5 << 20) + 12_345);
    for (let i = 0; i < body.length; i++) body[i] = (i * 2654435761) >>> 24;
    const same = (a: Uint8Array | undefined, b: Uint8Array) => a !== undefined && Buffer.from(a).equals(b);
    await st.put("unsigned/small", body.subarray(0, 1000));
    const w = await st.createWriter("unsigned/multipart");
    await w.write(body);
    await w.close();
    // One PutObject and two UploadParts (5 MiB parts), each with its CRC32 and an unsigned payload.
    expect(seen.length).toBe(3);
    for (const r of seen)
      expect(r).toEqual({ crc: expect.stringMatching(/^[A-Za-z0-9+/]{6}==$/), sha: "UNSIGNED-PAYLOAD" });
    expect(same((await st.get("unsigned/small"))?.body, body.subarray(0, 1000))).toBe(true);
    expect(same((await st.get("unsigned/multipart"))?.body, body)).toBe(true);
    await st.close();
  });
});
