/**
 * The scheduled Lambda (infra/schedules.ts): enqueue each tenant's retention, cleanup and
 * index re-sync jobs. The work itself runs in the worker, one tenant per message.
 */
import type { Context } from "aws-lambda";
import { runSchedule, type ScheduleOutcome } from "@strata/pipeline";
import { lambdaRuntime, type LambdaRuntime } from "./adapters.ts";

let rt: LambdaRuntime | undefined;

export async function handler(_event: unknown, context: Context): Promise<ScheduleOutcome> {
  rt ??= lambdaRuntime();
  rt.logger.addContext(context);
  return runSchedule(rt.deps);
}
