#!/usr/bin/env bash
# Set up a virtual environment from the project's own files and run every test.
# Usage: bash scripts/test.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
# -n 2: both cores; hypothesis runs its full example counts (>= 200 per property).
exec .venv/bin/python -m pytest -n 2 -q "$@"
