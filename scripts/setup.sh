#!/usr/bin/env bash
# Create .venv (if missing) and install toolkit with the given extras, pinned by constraints.txt.
# Usage: bash scripts/setup.sh studio,dev
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-studio}"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# constraints.txt pins a set of versions known to work together (label-studio pins old pytz,
# trafilatura wants a new one: without the pins pip backtracks for a long time).
.venv/bin/python -m pip install --quiet -c constraints.txt -e ".[${extras}]"
