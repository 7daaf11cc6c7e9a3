/**
 * `@strata/lambda/deploy`: what infra/ needs to deploy the functions, as plain values: the
 * sizing, the bucket's notification rule, the settings to forward. No AWS SDK and no
 * Powertools behind this entry point, so infra's type-check and SST's config bundle stay light.
 */
import { SETTING_NAMES, type SettingName } from "@strata/pipeline/settings";

export * from "./sizing.ts";
export { UPLOAD_NOTIFICATION, matchesUploadNotification } from "./notify-rule.ts";
export * from "./permissions.ts";
export * from "./bucket-rules.ts";
export * from "./alarms.ts";

/**
 * The pipeline's settings (every variable of its schema), which infra/settings.ts forwards
 * from the deploying shell to the functions. Wiring (`STRATA_BUCKET`, `STRATA_QUEUE_URL`) is
 * set by infra itself.
 */
export const FORWARDED_SETTINGS: readonly SettingName[] = SETTING_NAMES;
