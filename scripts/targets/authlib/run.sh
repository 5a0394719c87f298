#!/usr/bin/env bash
# Runs the conformance suite against the Authlib server of app.py on 127.0.0.1:18091.
# From the repository root: scripts/targets/authlib/run.sh [runner arguments...]
set -uo pipefail
here="scripts/targets/authlib"
port=18091
bash "$here/setup.sh" || { echo "setup failed" >&2; exit 2; }

# Authlib refuses plain http unless told it is a development setup; the server only
# listens on the loopback interface.
AUTHLIB_INSECURE_TRANSPORT=1 "$here/venv/bin/python" "$here/app.py" --port "$port" \
  --db "$PWD/$here/authlib.sqlite" >"$here/server.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null' EXIT

for _ in $(seq 1 60); do
  if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "the server exited; see $here/server.log" >&2; cat "$here/server.log" >&2; exit 2
  fi
  sleep 0.5
done
if ! curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
  echo "the server did not answer on port $port" >&2; exit 2
fi

cargo run --release -q -p conformance -- --profile fixtures/profiles/authlib.toml "$@"
exit $?
