/// <reference path="./.sst/platform/config.d.ts" />
// Thin on purpose: the resources live in infra/ (bucket, queues, functions, schedules).
// Type-checked offline by infra/typecheck.sh (part of `npm test`).
export default $config({
  app(input) {
    return {
      name: "strata",
      removal: input?.stage === "production" ? "retain" : "remove",
      home: "aws",
    };
  },
  async run() {
    const infra = await import("./infra/index.ts");
    return infra.deploy();
  },
});
