// The jobs queue (S3 notifications and Strata's own job messages) and its dead-letter queue.
import {
  DLQ_RETENTION_SECONDS,
  JOBS_MAX_RECEIVE_COUNT,
  JOBS_VISIBILITY_SECONDS,
  WORKER_TIMEOUT_SECONDS,
} from "@strata/lambda/deploy";

if (JOBS_VISIBILITY_SECONDS < 6 * WORKER_TIMEOUT_SECONDS) {
  throw new Error(
    `jobs visibility timeout ${JOBS_VISIBILITY_SECONDS}s is under 6 × the worker timeout ${WORKER_TIMEOUT_SECONDS}s`,
  );
}

export interface Queues {
  jobs: sst.aws.Queue;
  dlq: sst.aws.Queue;
}

export function createQueues(): Queues {
  const dlq = new sst.aws.Queue("JobsDlq", {
    transform: { queue: { messageRetentionSeconds: DLQ_RETENTION_SECONDS } },
  });
  // Standard, not FIFO: S3 notifications cannot target FIFO queues; leases serialise instead.
  const jobs = new sst.aws.Queue("Jobs", {
    visibilityTimeout: `${JOBS_VISIBILITY_SECONDS} seconds`,
    dlq: { queue: dlq.arn, retry: JOBS_MAX_RECEIVE_COUNT },
  });
  return { jobs, dlq };
}
