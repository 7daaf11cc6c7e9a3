/**
 * The worker Lambda: SQS batch in, partial batch response out. Each record runs through the
 * pipeline's `handleRecord`; a record that throws (a malformed body, a failed job) is reported
 * alone in `batchItemFailures` and comes back after the visibility timeout, then goes to the
 * DLQ after the queue's retries. Infra enables `ReportBatchItemFailures` (partialResponses).
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { handleRecord, type WorkerDeps } from "@strata/pipeline";
import { lambdaRuntime, required, type LambdaRuntime } from "./adapters.ts";

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * The composition, with the ports passed in (tests and the local runtime use their own).
 * `opts.bucket`: S3 events from any other bucket are acknowledged unrun (`foreign-bucket-ignored`).
 */
export function createWorkerHandler(deps: WorkerDeps, opts: { bucket?: string } = {}): SqsHandler {
  const recordHandler = (record: SQSRecord, context?: Context) =>
    handleRecord(record.body, deps, {
      messageId: record.messageId,
      receiveCount: Number(record.attributes.ApproximateReceiveCount) || undefined,
      // Jobs that write blocks stop (and delete their partial output) before Lambda kills them.
      deadline: context ? Date.now() + context.getRemainingTimeInMillis() : undefined,
      bucket: opts.bucket,
    });
  // A processor per invocation: it holds the batch's state, and the local runtime may run
  // several batches at once. Sequential: a job may use most of the function's memory and /tmp.
  return (event, context) =>
    processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), {
      context,
      processInParallel: false,
    });
}

let runtime: { rt: LambdaRuntime; handle: SqsHandler } | undefined;

/**
 * The deployed worker (functions/worker.ts): the composition over the Lambda adapters, built at the first invocation.
 */
export const handler: SqsHandler = async (event, context) => {
  if (!runtime) {
    const rt = lambdaRuntime();
    runtime = { rt, handle: createWorkerHandler(rt.deps, { bucket: required(process.env, "STRATA_BUCKET") }) };
  }
  runtime.rt.logger.addContext(context);
  try {
    return await runtime.handle(event, context);
  } finally {
    // Job metrics are flushed as they are added (one EMF record each, powertoolsMetrics): only
    // what else was stored is left, and publishing nothing would log a warning per invocation.
    if (runtime.rt.metrics.hasStoredMetrics()) runtime.rt.metrics.publishStoredMetrics();
  }
};
