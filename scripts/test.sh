#!/usr/bin/env bash
# The one test command (README, .ci/run): dependencies, services, lint, typecheck, every test.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/ensure-services.sh
npx biome check .
npx tsc -p tsconfig.json --noEmit
npx vitest run "$@"
