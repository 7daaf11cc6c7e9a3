/**
 * On an adopted bucket (STRATA_EXISTING_BUCKET), Strata's upload rule is merged into the
 * bucket's notification configuration at run time by the scheduled function: S3's
 * PutBucketNotificationConfiguration replaces the whole configuration, so a deploy-time
 * resource would drop the bucket's other subscribers. Read, compare, and write only when our
 * rule is missing or stale; never when another consumer's rule overlaps ours (S3 would refuse
 * with "Configurations overlap", and removing theirs would break them). Idempotent, so running
 * it hourly also restores the rule after another tool overwrote the configuration.
 */
import {
  GetBucketNotificationConfigurationCommand,
  type NotificationConfiguration,
  PutBucketNotificationConfigurationCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { Logger } from "@strata/pipeline";
import {
  MANAGE_NOTIFICATION_VARIABLE,
  mergeNotificationConfiguration,
  notificationMergeSteps,
  QUEUE_ARN_VARIABLE,
} from "./bucket-rules.ts";
import { UPLOAD_NOTIFICATION } from "./notify-rule.ts";

export type NotificationOutcome =
  | { outcome: "unchanged" }
  /** `replaced`: a stale version of Strata's rule was there. */
  | { outcome: "written"; replaced: boolean }
  /** Nothing was written: another consumer's rule is in the way (`reason` names it). */
  | { outcome: "refused"; reason: string }
  /** S3 answered with an error (permissions, throttling, a destination S3 could not validate). */
  | { outcome: "failed"; reason: string };

/** A notification rule of any destination type, as the overlap check sees it. */
interface RuleView {
  kind: "QueueConfiguration" | "TopicConfiguration" | "LambdaFunctionConfiguration";
  id: string | undefined;
  destination: string | undefined;
  events: string[];
  prefix: string;
  suffix: string;
}

type FilterRules = { Name?: string | undefined; Value?: string | undefined }[] | undefined;

function filterValue(rules: FilterRules, name: "prefix" | "suffix"): string {
  // S3 answers "Prefix"/"Suffix"; the emulator and the SDK's callers write them lowercase.
  return rules?.find((r) => r.Name?.toLowerCase() === name)?.Value ?? "";
}

function rulesOf(config: NotificationConfiguration): RuleView[] {
  const view = (
    kind: RuleView["kind"],
    c: { Id?: string | undefined; Events?: string[] | undefined; Filter?: { Key?: { FilterRules?: FilterRules } } },
    destination: string | undefined,
  ): RuleView => {
    const rules = c.Filter?.Key?.FilterRules;
    return {
      kind,
      id: c.Id,
      destination,
      events: c.Events ?? [],
      prefix: filterValue(rules, "prefix"),
      suffix: filterValue(rules, "suffix"),
    };
  };
  return [
    ...(config.QueueConfigurations ?? []).map((c) => view("QueueConfiguration", c, c.QueueArn)),
    ...(config.TopicConfigurations ?? []).map((c) => view("TopicConfiguration", c, c.TopicArn)),
    ...(config.LambdaFunctionConfigurations ?? []).map((c) =>
      view("LambdaFunctionConfiguration", c, c.LambdaFunctionArn),
    ),
  ];
}

/** `s3:ObjectCreated:*` covers `s3:ObjectCreated:Put`; either side may be the wildcard. */
function eventsOverlap(a: readonly string[], b: readonly string[]): boolean {
  const covers = (p: string, e: string) => p === e || (p.endsWith("*") && e.startsWith(p.slice(0, -1)));
  return a.some((x) => b.some((y) => covers(x, y) || covers(y, x)));
}

/** S3's rule: two filters overlap when one prefix starts the other and one suffix ends the other. */
export function rulesOverlap(
  a: Pick<RuleView, "events" | "prefix" | "suffix">,
  b: Pick<RuleView, "events" | "prefix" | "suffix">,
): boolean {
  return (
    eventsOverlap(a.events, b.events) &&
    (a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix)) &&
    (a.suffix.endsWith(b.suffix) || b.suffix.endsWith(a.suffix))
  );
}

const OURS = { events: [...UPLOAD_NOTIFICATION.events], prefix: "", suffix: UPLOAD_NOTIFICATION.filterSuffix };

function isIdentical(r: RuleView, queueArn: string): boolean {
  const sameEvents = r.events.length === OURS.events.length && OURS.events.every((e) => r.events.includes(e));
  return r.destination === queueArn && sameEvents && r.prefix === OURS.prefix && r.suffix === OURS.suffix;
}

/** What to do with the configuration read, before any write: pure, so the tests can state it. */
export function planUploadNotification(
  config: NotificationConfiguration,
  queueArn: string,
): { outcome: "unchanged" } | { outcome: "refused"; reason: string } | { outcome: "write"; replaced: boolean } {
  const all = rulesOf(config);
  const named = all.filter((r) => r.id === UPLOAD_NOTIFICATION.name);
  const ours = named.find((r) => r.kind === "QueueConfiguration" && r.destination === queueArn);
  if (ours && named.length === 1 && isIdentical(ours, queueArn)) return { outcome: "unchanged" };
  // Our Id on another destination: another Strata deployment adopting the same bucket, or a
  // queue since replaced. Only the operator knows which; replacing it could cut the other off.
  const elsewhere = named.find((r) => r !== ours);
  if (elsewhere)
    return {
      outcome: "refused",
      reason: `${elsewhere.kind} ${UPLOAD_NOTIFICATION.name} already sends to ${elsewhere.destination ?? "(none)"}, not to ${queueArn}: remove it by hand if that destination is gone`,
    };
  const clash = all.find((r) => r.id !== UPLOAD_NOTIFICATION.name && rulesOverlap(r, OURS));
  if (clash)
    return {
      outcome: "refused",
      reason: `${clash.kind} ${clash.id ?? "(no id)"} to ${clash.destination ?? "(none)"} overlaps Strata's rule (events ${clash.events.join(",")}, prefix "${clash.prefix}", suffix "${clash.suffix}"): S3 allows one rule per event and key`,
    };
  return { outcome: "write", replaced: ours !== undefined };
}

function s3Error(e: unknown): string {
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  return `${err.name ?? "Error"}${status ? ` (HTTP ${status})` : ""}: ${err.message ?? String(e)}`;
}

/**
 * Make sure the bucket notifies the jobs queue of uploads, keeping every other configuration
 * verbatim. One GET when nothing is to be done; never throws (S3's errors are `failed`). With
 * `log`, one line per outcome: `upload-notification-unchanged|written|refused|failed`.
 */
export async function ensureUploadNotification(args: {
  s3Client: S3Client;
  bucket: string;
  queueArn: string;
  log?: Logger;
}): Promise<NotificationOutcome> {
  const { s3Client, bucket, queueArn, log } = args;
  const outcome = await converge(s3Client, bucket, queueArn);
  const fields = { bucket, queueArn, rule: UPLOAD_NOTIFICATION.name };
  if (outcome.outcome === "unchanged") log?.info("upload-notification-unchanged", fields);
  else if (outcome.outcome === "written")
    log?.info("upload-notification-written", { ...fields, replaced: outcome.replaced });
  else if (outcome.outcome === "refused")
    log?.warn("upload-notification-refused", {
      ...fields,
      reason: outcome.reason,
      manualSteps: notificationMergeSteps(bucket, queueArn).join("\n"),
    });
  else log?.error("upload-notification-failed", { ...fields, reason: outcome.reason });
  return outcome;
}

async function converge(s3Client: S3Client, bucket: string, queueArn: string): Promise<NotificationOutcome> {
  let current: NotificationConfiguration;
  try {
    const { $metadata: _, ...config } = await s3Client.send(
      new GetBucketNotificationConfigurationCommand({ Bucket: bucket }),
    );
    current = config;
  } catch (e) {
    return { outcome: "failed", reason: `GetBucketNotificationConfiguration: ${s3Error(e)}` };
  }
  const plan = planUploadNotification(current, queueArn);
  if (plan.outcome !== "write") return plan;
  // The SDK output shape is the input shape: every other configuration goes back as read.
  const merged = mergeNotificationConfiguration({ ...current }, queueArn) as unknown as NotificationConfiguration;
  try {
    await s3Client.send(
      new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: merged }),
    );
  } catch (e) {
    return { outcome: "failed", reason: `PutBucketNotificationConfiguration: ${s3Error(e)}` };
  }
  return { outcome: "written", replaced: plan.replaced };
}

/** The queue to merge the rule for, or undefined when Strata does not manage it; throws one line on a bad value. */
export function notificationManagement(env: Record<string, string | undefined>): { queueArn: string } | undefined {
  const mode = env[MANAGE_NOTIFICATION_VARIABLE]?.trim();
  if (mode === undefined || mode === "") return undefined;
  if (mode !== "merge")
    throw new Error(`${MANAGE_NOTIFICATION_VARIABLE}=${JSON.stringify(mode)}: expected merge or unset`);
  const queueArn = env[QUEUE_ARN_VARIABLE]?.trim();
  if (!queueArn || !/^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+$/.test(queueArn))
    throw new Error(
      `${QUEUE_ARN_VARIABLE}=${JSON.stringify(queueArn ?? "")}: expected the jobs queue's ARN (arn:aws:sqs:<region>:<account>:<name>), set with ${MANAGE_NOTIFICATION_VARIABLE}=merge`,
    );
  return { queueArn };
}
