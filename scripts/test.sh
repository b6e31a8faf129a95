#!/usr/bin/env bash
# Set up (.venv with the studio and dev extras) and run the whole test suite.
# The tests start their own Label Studio on a free loopback port; nothing else is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh studio,agreement,dev
export HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1
.venv/bin/ruff check toolkit tests
.venv/bin/python -m pytest -q "$@"
