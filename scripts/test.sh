#!/usr/bin/env bash
# The one test command (README, .ci/run): dependencies, services, lint, typecheck, every test.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
# npm puts node_modules/.bin first on PATH, so `node` here is the Node 24 LTS the `node` dev
# dependency brings (the Docker image's version), whatever Node the machine has.
echo "test: running on Node $(node --version) ($(command -v node))"
bash scripts/ensure-services.sh
# The browser test drives Debian's Chromium (no browser download from the test tool); the emoji
# font makes its screenshots show what Slack shows.
if ! command -v chromium >/dev/null 2>&1 || [ ! -d /usr/share/fonts/truetype/noto ]; then
  echo "test: installing Debian's chromium and fonts-noto-color-emoji for the browser test" >&2
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null
fi
npx biome check .
npx tsc -p tsconfig.json --noEmit
npx vitest run "$@"
