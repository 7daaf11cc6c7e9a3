// The proxy on its own, spoken to with plain HTTP (fauxqs does not check signatures).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startS3Emulator, type S3Emulator } from "../src/index.ts";

let emu: S3Emulator;
beforeAll(async () => {
  emu = await startS3Emulator({ buckets: ["proxy-test"] });
});
afterAll(async () => {
  await emu?.stop();
});

const put = (base: string, key: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${base}/proxy-test/${key}`, { method: "PUT", body, headers });

describe("conditional-write proxy", () => {
  it("listens on loopback only and exports the environment a child process needs", () => {
    expect(new URL(emu.endpoint).hostname).toBe("127.0.0.1");
    expect(new URL(emu.rawEndpoint).hostname).toBe("127.0.0.1");
    expect(emu.env()).toMatchObject({
      AWS_ENDPOINT_URL_S3: emu.endpoint,
      AWS_ACCESS_KEY_ID: "test",
      AWS_REGION: "us-east-1",
    });
  });

  it("answers 412 / 404 with S3's XML error codes where fauxqs would overwrite", async () => {
    expect((await put(emu.endpoint, "a", "1", { "if-none-match": "*" })).status).toBe(200);
    const again = await put(emu.endpoint, "a", "2", { "if-none-match": "*" });
    expect(again.status).toBe(412);
    expect(await again.text()).toContain("<Code>PreconditionFailed</Code>");
    const etag = (await fetch(`${emu.endpoint}/proxy-test/a`, { method: "HEAD" })).headers.get("etag")!;
    expect((await put(emu.endpoint, "a", "3", { "if-match": '"ffffffffffffffffffffffffffffffff"' })).status).toBe(412);
    const absent = await put(emu.endpoint, "nope", "3", { "if-match": etag });
    expect(absent.status).toBe(404);
    expect(await absent.text()).toContain("<Code>NoSuchKey</Code>");
    expect((await put(emu.endpoint, "a", "4", { "if-match": etag })).status).toBe(200);
    expect(await (await fetch(`${emu.endpoint}/proxy-test/a`)).text()).toBe("4");
    // The same request straight to fauxqs is accepted: the reason the proxy exists.
    expect((await put(emu.rawEndpoint, "a", "5", { "if-none-match": "*" })).status).toBe(200);
    expect(
      (await fetch(`${emu.endpoint}/proxy-test/a`, { method: "DELETE", headers: { "if-match": etag } })).status,
    ).toBe(412);
  });

  it("injects faults a limited number of times, then forwards again", async () => {
    emu.proxy.injectFault({ method: "GET", path: /\/proxy-test\/a$/, status: 503, code: "SlowDown", count: 1 });
    const r1 = await fetch(`${emu.endpoint}/proxy-test/a`);
    expect(r1.status).toBe(503);
    expect(await r1.text()).toContain("<Code>SlowDown</Code>");
    expect((await fetch(`${emu.endpoint}/proxy-test/a`)).status).toBe(200);
  });
});
