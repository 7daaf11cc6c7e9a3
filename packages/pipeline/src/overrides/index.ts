// Per-tenant overrides (strata-overrides.json): what `@strata/pipeline/operations` re-exports for the CLI.
export {
  OVERRIDES_KEY,
  MAX_OVERRIDES_BYTES,
  MAX_SPLIT_SHARDS,
  OverridesSchema,
  TenantOverridesSchema,
  parseOverrides,
  encodeOverrides,
  type OverridesDocument,
  type TenantOverrides,
} from "./schema.ts";
export { OverridesSource, OVERRIDES_TTL_MS, readOverrides, writeOverrides, type ReadOverrides } from "./load.ts";
export { tenantSettings, baseSettings, type BaseSettings, type TenantSettings } from "./apply.ts";
export {
  showOverrides,
  setTenantOverrides,
  unsetTenantOverrides,
  globalSettings,
  DEFAULTS_BLOCK,
  type EditOptions,
  type EditOutcome,
  type EffectiveSettings,
  type OverridesView,
} from "./edit.ts";
