#!/usr/bin/env bash
# Set up (.venv with the studio and dev extras) and run the whole test suite.
# The tests start their own Label Studio on a free loopback port; nothing else is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh studio,agreement,spacy,plots,ray,dev
# Debian's Chromium for the browser test of the labeling UI (Playwright never downloads one).
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null; then
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update -q >/dev/null || echo "apt-get update failed; the browser test will skip"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium fonts-noto-color-emoji \
    >/dev/null || echo "Chromium could not be installed; the browser test will skip (loudly)"
fi
# Debian's PostgreSQL server programs for the tests of `studio up --db postgresql` (marker
# `postgres`; they start their own private cluster, the package's own cluster is not used).
# nginx: one test goes through it as a reverse proxy (skipped, loudly, without it).
if command -v apt-get >/dev/null; then
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    $SUDO apt-get update -q >/dev/null || true
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q postgresql >/dev/null
  fi
  if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q nginx >/dev/null \
      || echo "nginx could not be installed; the proxy test will skip (loudly)"
  fi
fi
export HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1
.venv/bin/ruff check toolkit tests
.venv/bin/python -m pytest -q "$@"
