// The local runtime's settings, apart from the runtime: `strata local --help` lists them and
// their local defaults through `@strata/local/settings` without loading the emulator.
import { parseSettings, type EngineSettings, type PipelineConfig, type SettingName } from "@strata/pipeline/settings";
import { WORKER_LIMITS } from "@strata/lambda/deploy";

/**
 * Where the local defaults differ from the deployed functions', as the variables would be
 * written: the lease TTL stays below the local visibility timeout, as in AWS.
 */
export const LOCAL_SETTING_DEFAULTS: Readonly<Partial<Record<SettingName, string>>> = { STRATA_LEASE_TTL: "4m" };

/**
 * The pipeline's settings from `env`'s `STRATA_*` variables, read as the Lambda reads them
 * (same schema, same walls: the worker's sizing) over the local defaults; what `strata local`
 * runs with. Throws naming every unknown variable and malformed value.
 */
export function localSettingsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): PipelineConfig & EngineSettings {
  const { config, engine } = parseSettings(env, { limits: WORKER_LIMITS, defaults: LOCAL_SETTING_DEFAULTS });
  return { ...config, ...engine };
}
