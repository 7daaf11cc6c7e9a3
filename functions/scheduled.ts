// The scheduled Lambda's entry point (infra/schedules.ts: handler "functions/scheduled.handler").
// The handler and everything it composes live in @strata/lambda.
export { scheduledHandler as handler } from "@strata/lambda";
