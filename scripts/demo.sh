#!/usr/bin/env bash
# The README's main-job command: installs what is missing, makes sure Redis and Postgres are
# up, then runs the demo (seeded conversations on the local services, embedded S3).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/ensure-services.sh
exec node --import tsx scripts/demo.ts "$@"
