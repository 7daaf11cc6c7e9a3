/// <reference path="./.sst/platform/config.d.ts" />
// Thin on purpose: the resources live in infra/ (bucket, queues, functions, schedules).
// The pipeline issue fills infra/ in; until then this app deploys nothing.
export default $config({
  app(input) {
    return {
      name: "strata",
      removal: input?.stage === "production" ? "retain" : "remove",
      home: "aws",
    };
  },
  async run() {
    const infra = await import("./infra/index");
    return infra.deploy();
  },
});
