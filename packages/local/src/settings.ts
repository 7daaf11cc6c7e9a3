// The local runtime's settings, apart from the runtime: `strata local --help` lists them and
// their local defaults through `@strata/local/settings` without loading the emulator.
import {
  parseSettings,
  tryParseBytes,
  type EngineSettings,
  type PipelineConfig,
  type SettingName,
} from "@strata/pipeline/settings";
import { parseDuration } from "@strata/tsdb";
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

/** Real S3's timing for the emulator (`@strata/emulator`'s `S3Shaping`): what `--s3-latency` and `--s3-bandwidth` set. */
export interface LocalS3Shaping {
  latencyMs?: number;
  bandwidthBytesPerSecond?: number;
}

/**
 * The emulator's shaping from `--s3-latency` / `--s3-bandwidth` (given as `flags`, which win) or
 * `STRATA_S3_LATENCY` / `STRATA_S3_BANDWIDTH`: a duration (`20ms`) and a rate (`90MB/s`, `1GiB/s`,
 * plain bytes per second; MB are 10^6 bytes, MiB 2^20). Undefined when neither is set; throws
 * naming the flag or variable on a malformed value.
 */
export function localS3Shaping(
  flags: { latency?: string; bandwidth?: string },
  env: Readonly<Record<string, string | undefined>>,
): LocalS3Shaping | undefined {
  const pick = (flag: string | undefined, flagName: string, envName: string) =>
    flag !== undefined
      ? { text: flag, what: `--${flagName}` }
      : env[envName]
        ? { text: env[envName], what: envName }
        : undefined;
  const latency = pick(flags.latency, "s3-latency", "STRATA_S3_LATENCY");
  const bandwidth = pick(flags.bandwidth, "s3-bandwidth", "STRATA_S3_BANDWIDTH");
  if (!latency && !bandwidth) return undefined;
  const out: LocalS3Shaping = {};
  if (latency) out.latencyMs = parseDuration(latency.text, latency.what);
  if (bandwidth) {
    const bps = tryParseBytes(bandwidth.text.replace(/\s*\/\s*s$/i, ""));
    if (bps === undefined || bps <= 0)
      throw new Error(
        `${bandwidth.what}: expected a rate like 90MB/s, 100MiB/s or 90000000, found ${JSON.stringify(bandwidth.text)}`,
      );
    out.bandwidthBytesPerSecond = bps;
  }
  return out;
}
