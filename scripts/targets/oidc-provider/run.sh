#!/usr/bin/env bash
# Runs the conformance suite against oidc-provider. From the repository root:
#   scripts/targets/oidc-provider/run.sh [runner options, e.g. --tags '@rfc7009']
# Sets up (idempotently), starts the server on 127.0.0.1:18092 in the background, waits
# until it answers, runs the suite, stops the server, and exits with the runner's code.
set -euo pipefail
here="scripts/targets/oidc-provider"
[ -f "$here/server.mjs" ] || { echo "run.sh: run it from the repository root" >&2; exit 2; }
PORT=18092
bash "$here/setup.sh"

if curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then
  echo "run.sh: something already listens on 127.0.0.1:$PORT" >&2
  exit 2
fi
log="$(mktemp -t oidc-provider.XXXXXX.log)"
(cd "$here" && PORT=$PORT exec node server.mjs) >"$log" 2>&1 &
server=$!
stop() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -f "$log"; }
trap stop EXIT

ready=
for _ in $(seq 1 60); do
  if curl -sf -o /dev/null "http://127.0.0.1:$PORT/.well-known/openid-configuration"; then
    ready=1
    break
  fi
  kill -0 "$server" 2>/dev/null || break
  sleep 0.5
done
if [ -z "$ready" ]; then
  echo "run.sh: oidc-provider did not start; its log:" >&2
  cat "$log" >&2
  exit 2
fi

set +e
cargo run --release -q -p conformance -- --profile fixtures/profiles/oidc-provider.toml "$@"
code=$?
set -e
exit "$code"
