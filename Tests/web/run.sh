#!/usr/bin/env bash
# The web page in a real browser: Debian's chromium, headless, driven through chromium-driver by
# Selenium (from PyPI, into .build/web-venv). The tests start `bridges serve` themselves.
#
#   bash Tests/web/run.sh [extra pytest args]
#
# Knobs: BRIDGES_BIN (a built server binary; default: build .build/debug/bridges), CHROMIUM_BIN, CHROMEDRIVER_BIN,
# WEB_TIMEOUT (seconds for the whole run, default 300). Screenshots: .build/web-screenshots/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT="$PWD"
VENV="$ROOT/.build/web-venv"

if ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    rm -rf "$VENV"
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$ROOT/Tests/web/requirements.txt"

# Without BRIDGES_BIN the debug build is brought up to date first (swift build is incremental).
if [ -z "${BRIDGES_BIN:-}" ]; then
    swift build --product bridges
fi
BIN="${BRIDGES_BIN:-$ROOT/.build/debug/bridges}"
rm -rf "$ROOT/.build/web-screenshots"
mkdir -p "$ROOT/.build/web-screenshots"

BRIDGES_BIN="$BIN" PYTHONDONTWRITEBYTECODE=1 SE_AVOID_STATS=true \
    timeout -k 10 "${WEB_TIMEOUT:-300}" \
    "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$ROOT/Tests/web" "$@"
