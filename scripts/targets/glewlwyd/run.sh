#!/usr/bin/env bash
# Runs the conformance suite against Glewlwyd (Debian package). From the repository root:
#   scripts/targets/glewlwyd/run.sh [runner options, e.g. --tags '@rfc7009']
# Sets up a fresh instance (setup.sh: package, SQLite database, config in
# scripts/targets/glewlwyd/state/), starts glewlwyd on 127.0.0.1:18093 in the background,
# configures it over its admin API (configure.sh), runs the suite with
# fixtures/profiles/glewlwyd.toml writing scripts/targets/glewlwyd/result.json, stops the
# server and exits with the runner's code. The server log stays in state/glewlwyd.log.
# RUNNER overrides the runner command (default: cargo run --release -q -p conformance --),
# e.g. RUNNER=/path/to/oauth2-conformance.
set -euo pipefail
here="scripts/targets/glewlwyd"
[ -f "$here/configure.sh" ] || { echo "run.sh: run it from the repository root" >&2; exit 2; }
PORT=18093
state="$PWD/$here/state"

if curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then
  echo "run.sh: something already listens on 127.0.0.1:$PORT" >&2
  exit 2
fi
bash "$here/setup.sh" "$state" "$PORT"

log="$state/glewlwyd.log"
(cd "$state" && exec glewlwyd -c "$state/glewlwyd.conf") >"$log" 2>&1 &
server=$!
stop() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
trap stop EXIT

ready=
for _ in $(seq 1 60); do
  if curl -sf -o /dev/null "http://127.0.0.1:$PORT/config/"; then
    ready=1
    break
  fi
  kill -0 "$server" 2>/dev/null || break
  sleep 0.5
done
if [ -z "$ready" ]; then
  echo "run.sh: glewlwyd did not start; its log:" >&2
  cat "$log" >&2
  exit 2
fi
bash "$here/configure.sh" "$state" "$PORT"

set +e
if [ -n "${RUNNER:-}" ]; then
  $RUNNER --profile fixtures/profiles/glewlwyd.toml --json "$here/result.json" "$@"
else
  cargo run --release -q -p conformance -- \
    --profile fixtures/profiles/glewlwyd.toml --json "$here/result.json" "$@"
fi
code=$?
set -e
exit "$code"
