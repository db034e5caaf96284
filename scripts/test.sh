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
.venv/bin/python -m pip install --quiet -e '.[test,ray]'   # ray: the Ray engine's equality test
# System programs the tests start for real, installed from Debian's packages when missing:
#   chromium      renders the HTML reports (tests/test_monitoring_report.py);
#   curl          asks the service in the README's penguins walk-through (tests/test_penguins_e2e.py);
#   redis-server  the Redis online store is tested against a real server (tests/redis_server.py), never a fake.
need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
  else
    echo "scripts/test.sh: $1 is missing (apt-get install -y $2 as root)" >&2
  fi
}
need chromium chromium
need curl curl
need redis-server redis-server
# -n 2: both cores; hypothesis runs its full example counts (>= 200 per property).
exec .venv/bin/python -m pytest -n 2 -q "$@"
