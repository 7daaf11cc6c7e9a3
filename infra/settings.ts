// Deploy-time settings forwarded to the functions (no SST types: unit-tested from test/infra).
import { FORWARDED_SETTINGS, parseDeployOnly, type DeployOnly } from "@strata/lambda/deploy";

/**
 * The pipeline's settings (every variable of its schema, packages/pipeline/src/settings.ts)
 * taken from the environment of `sst deploy` / `sst dev`, so `STRATA_REPLICA_LABELS=replica
 * sst deploy` configures the deployed functions; unset or empty ones keep the functions'
 * defaults. The functions validate them at cold start.
 */
export function deploySettings(env: Record<string, string | undefined> = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of FORWARDED_SETTINGS) {
    const v = env[k];
    if (v !== undefined && v !== "") out[k] = v;
  }
  return out;
}

/**
 * The deploy-only settings (`DEPLOY_ONLY_SETTINGS` in @strata/lambda/deploy: the bucket's
 * removal, versions and adoption, the alarms' destination), read by infra alone.
 */
export function infraSettings(env: Record<string, string | undefined> = process.env): DeployOnly {
  return parseDeployOnly(env);
}
