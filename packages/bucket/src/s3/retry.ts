/**
 * The S3 client's retry policy: retry throttling (429/503 SlowDown), transient network
 * errors and 5xx with capped exponential backoff and full jitter, honouring Retry-After.
 * Our own small strategy (the SDK's RetryStrategyV2 shape) so tests can shrink the delays
 * and count attempts; client errors (4xx, including 412) are never retried.
 */
export interface RetryOptions {
  /** Attempts in total, the first included (default 6). */
  maxAttempts?: number;
  /** First backoff ceiling in ms (default 100); doubles per retry. */
  baseDelayMs?: number;
  /** Backoff ceiling in ms (default 5000). */
  maxDelayMs?: number;
}

type ErrorType = "TRANSIENT" | "THROTTLING" | "SERVER_ERROR" | "CLIENT_ERROR";

interface Token {
  getRetryCount(): number;
  getRetryDelay(): number;
}

/** Structurally the SDK's RetryStrategyV2 (avoids a dependency on @smithy/types). */
export interface BackoffRetryStrategy {
  readonly maxAttempts: number;
  acquireInitialRetryToken(scope: string): Promise<Token>;
  refreshRetryTokenForRetry(
    token: Token,
    info: { error?: unknown; errorType: ErrorType; retryAfterHint?: Date },
  ): Promise<Token>;
  recordSuccess(token: Token): void;
}

export function backoffRetryStrategy(opts: RetryOptions = {}): BackoffRetryStrategy {
  const maxAttempts = opts.maxAttempts ?? 6;
  const base = opts.baseDelayMs ?? 100;
  const cap = opts.maxDelayMs ?? 5000;
  const token = (count: number, delay: number): Token => ({ getRetryCount: () => count, getRetryDelay: () => delay });
  return {
    maxAttempts,
    acquireInitialRetryToken: async () => token(0, 0),
    async refreshRetryTokenForRetry(prev, info) {
      const retries = prev.getRetryCount() + 1;
      if (info.errorType === "CLIENT_ERROR" || retries >= maxAttempts) {
        throw info.error instanceof Error ? info.error : new Error(`S3 request failed (${info.errorType})`);
      }
      let delay = Math.random() * Math.min(cap, base * 2 ** (retries - 1));
      if (info.retryAfterHint) delay = Math.max(delay, Math.min(cap, info.retryAfterHint.getTime() - Date.now()));
      return token(retries, Math.max(0, Math.round(delay)));
    },
    recordSuccess() {},
  };
}
