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
# The HTML report tests render in real headless Debian chromium (tests/test_monitoring_report.py).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "scripts/test.sh: chromium is missing (apt-get install -y chromium as root)" >&2
  fi
fi
# The README's penguins walk-through (tests/test_penguins_e2e.py) asks the service with curl, as a user does.
if ! command -v curl >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null
  else
    echo "scripts/test.sh: curl is missing (apt-get install -y curl as root)" >&2
  fi
fi
# The Redis online store is tested against a real redis-server (tests/redis_server.py), never a fake.
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    echo "scripts/test.sh: redis-server is missing (apt-get install -y redis-server as root)" >&2
  fi
fi
# -n 2: both cores; hypothesis runs its full example counts (>= 200 per property).
exec .venv/bin/python -m pytest -n 2 -q "$@"
