#!/usr/bin/env bash
# Installs the pinned Authlib, Flask and Flask-SQLAlchemy into scripts/targets/authlib/venv
# (git-ignored). Idempotent: does nothing when the venv already has the pinned versions.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null || python=python3
stamp="$here/venv/.requirements"
if [ -x "$here/venv/bin/python" ] && cmp -s "$here/requirements.txt" "$stamp"; then
  exit 0
fi
"$python" -m venv "$here/venv"
"$here/venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"
cp "$here/requirements.txt" "$stamp"
