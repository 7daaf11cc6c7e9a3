// AWS resources for Strata (SST v4 components). Empty until the pipeline issue: the bucket
// with its meta.json notification, the jobs queue and DLQ, the worker and the schedule.
export async function deploy(): Promise<Record<string, never>> {
  return {};
}
