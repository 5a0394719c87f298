#!/usr/bin/env bash
# Installs the pinned oidc-provider (package.json + package-lock.json) into
# scripts/targets/oidc-provider/node_modules (git-ignored). Idempotent: does nothing when
# the installed tree matches the lock file.
set -euo pipefail
cd "$(dirname "$0")"
command -v node >/dev/null || { echo "setup.sh: node is required (Node 20 or later)" >&2; exit 2; }
command -v npm >/dev/null || { echo "setup.sh: npm is required" >&2; exit 2; }
want="$(node -p "require('./package-lock.json').packages['node_modules/oidc-provider'].version")"
have="$(node -p "try { require('./node_modules/oidc-provider/package.json').version } catch { '' }")"
if [ "$want" = "$have" ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
