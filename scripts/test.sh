#!/usr/bin/env bash
# The one test command (README, .ci/run): dependencies, services, lint, typecheck, every test.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/ensure-services.sh
# The browser test drives Debian's Chromium (no browser download from the test tool).
if ! command -v chromium >/dev/null 2>&1; then
  echo "test: installing Debian's chromium for the browser test" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi
fi
npx biome check .
npx tsc -p tsconfig.json --noEmit
npx vitest run "$@"
