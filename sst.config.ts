/// <reference path="./.sst/platform/config.d.ts" />
// Thin on purpose: the resources live in infra/ (bucket, queues, functions, schedules).
// Type-checked offline by infra/typecheck.sh (part of `npm test`).
export default $config({
  app(input) {
    return {
      name: "strata",
      // The blocks bucket is retained on every stage regardless (infra/bucket.ts,
      // STRATA_REMOVE_BUCKET_ON_REMOVAL=true to opt out).
      removal: input?.stage === "production" ? "retain" : "remove",
      home: "aws",
    };
  },
  async run() {
    const infra = await import("./infra/index.ts");
    return infra.deploy();
  },
});
