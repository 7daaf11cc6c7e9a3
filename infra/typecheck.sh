#!/usr/bin/env bash
# Type-check sst.config.ts and infra/ offline: `sst install` writes the platform types to
# .sst/platform (npm registry only: no AWS credentials, no Pulumi or bun download), then tsc.
# The install (~35 s) is skipped when .sst/platform already matches the pinned sst version.
set -euo pipefail
cd "$(dirname "$0")/.."

want="$(node -p "JSON.parse(require(\"fs\").readFileSync(\"node_modules/sst/package.json\", \"utf8\")).version")"
have="$(cat .sst/platform/version 2>/dev/null || true)"
if [ "$want" != "$have" ] || [ ! -f .sst/platform/config.d.ts ] || [ ! -d .sst/platform/node_modules/@pulumi/aws ]; then
  echo "infra/typecheck: sst install (platform $want)" >&2
  SST_SKIP_DEPENDENCY_CHECK=1 SST_NO_BUN=1 SST_TELEMETRY_DISABLED=1 SST_STAGE=ci npx sst install >&2
fi
npx tsc -p infra/tsconfig.json
echo "infra/typecheck: sst.config.ts and infra/ type-check" >&2
