// The worker Lambda's entry point (infra/functions.ts: handler "functions/worker.handler").
// The handler and everything it composes live in @strata/lambda.
export { workerHandler as handler } from "@strata/lambda";
