// The block commands on block URLs of an S3 bucket, over the wire: the S3 emulator (fauxqs behind
// the conditional-write proxy) with the bucket's blocks under a prefix; the child CLI finds the
// emulator through the AWS_* environment it gives.
import { expect, it } from "vitest";
import { S3Store } from "@strata/bucket/s3";
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, startS3Emulator } from "@strata/emulator";
import { runStrata } from "@strata/testkit/cli";
import { blockUrlSuite } from "./block-url-suite.ts";

const BUCKET = "strata-block-urls";

blockUrlSuite(
  "block commands on an s3:// bucket",
  async () => {
    const emu = await startS3Emulator({ buckets: [BUCKET] });
    const store = new S3Store({
      bucket: BUCKET,
      prefix: "prod",
      clientConfig: { endpoint: emu.endpoint, credentials: EMULATOR_CREDENTIALS, region: EMULATOR_REGION },
    });
    return {
      url: `s3://${BUCKET}/prod`,
      store,
      env: emu.env(),
      close: async () => {
        await store.close();
        await emu.stop();
      },
    };
  },
  (strata) => {
    it("what S3 answers (no such bucket) is one line, exit 1", async () => {
      const r = await strata("inspect", "s3://no-such-bucket/team-a/01ARZ3NDEKTSV4RRFFQ69G5FAV");
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^strata inspect: S3: NoSuchBucket: [^\n]*\n$/);
    });
  },
);

it("an S3 endpoint that cannot be reached is one line, exit 1", async () => {
  const r = await runStrata(["plan", "s3://strata-block-urls"], {
    env: {
      AWS_ENDPOINT_URL_S3: "http://127.0.0.1:1",
      AWS_ACCESS_KEY_ID: "x",
      AWS_SECRET_ACCESS_KEY: "x",
      AWS_REGION: "us-east-1",
    },
  });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^strata plan: S3: cannot reach http:\/\/127\.0\.0\.1:1: [^\n]*ECONNREFUSED[^\n]*\n$/);
});
