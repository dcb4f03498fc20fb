#!/usr/bin/env bash
# Official-SDK conformance test: start a Bridges server on a free loopback port with the demo
# bridges and drive it with Beeper's Python SDK (beeper-desktop-api 6.0.0) through pytest.
#
#   bash Tests/conformance/run.sh [extra pytest args]
#
# Knobs (all optional):
#   BRIDGES_BIN                 server binary to run (default .build/debug/bridges)
#   CONFORMANCE_SKIP_BUILD=1    don't run `swift build`; use the binary as it is
#   CONFORMANCE_TIMEOUT         seconds pytest may run in all (default 900)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT="$PWD"
VENV="$ROOT/.build/conformance-venv"
BIN="${BRIDGES_BIN:-$ROOT/.build/debug/bridges}"

# --- Python environment -------------------------------------------------------------------
if ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    rm -rf "$VENV"
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$ROOT/Tests/conformance/requirements.txt"
PY="$VENV/bin/python"

# --- Server binary (swift build is incremental: an up-to-date .build is reused) -------------
if [ "${CONFORMANCE_SKIP_BUILD:-0}" != "1" ] || [ ! -x "$BIN" ]; then
    swift build --product bridges
    swift build --product fake-bridge
fi
FAKE_BIN="$(dirname "$BIN")/fake-bridge"
if [ ! -x "$BIN" ]; then
    echo "conformance: server binary $BIN not found" >&2
    exit 1
fi

# --- Start the server ---------------------------------------------------------------------
WORKDIR="$(mktemp -d "${TMPDIR:-/tmp}/bridges-conformance.XXXXXX")"
LOG="$WORKDIR/server.log"
DATA_DIR="$WORKDIR/data"
mkdir -p "$DATA_DIR"
SERVER_PID=""

FAKE_PID=""

stop_server() {
    if [ -n "$FAKE_PID" ]; then
        kill -TERM "$FAKE_PID" 2>/dev/null || true
        wait "$FAKE_PID" 2>/dev/null || true
        FAKE_PID=""
    fi
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.2
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}

print_log() {
    echo "---- bridges server log ($LOG) ----" >&2
    cat "$LOG" >&2 || true
    echo "---- end of server log ----" >&2
}

cleanup() {
    local rc=$?
    stop_server
    if [ "$rc" -ne 0 ]; then
        print_log
    fi
    rm -rf "$WORKDIR"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
TOKEN="$("$PY" -c 'import secrets; print(secrets.token_hex(32))')"
BASE_URL="http://127.0.0.1:$PORT"

# A fake mautrix bridge (new protocol generation) behind the bridge `sh-dummy`: the same SDK
# calls must work against a real-bridge connector. Commands written to its FIFO drive it
# ("scan", "refresh"); this script holds the FIFO open so the fake never reads end-of-file.
FAKE_CONTROL="$WORKDIR/fake-bridge.control"
mkfifo "$FAKE_CONTROL"
"$FAKE_BIN" --generation new <"$FAKE_CONTROL" >"$WORKDIR/fake-bridge.url" 2>"$WORKDIR/fake-bridge.log" &
FAKE_PID=$!
exec 3>"$FAKE_CONTROL"
for _ in $(seq 1 100); do
    [ -s "$WORKDIR/fake-bridge.url" ] && break
    sleep 0.1
done
FAKE_URL="$(head -n 1 "$WORKDIR/fake-bridge.url")"
if [ -z "$FAKE_URL" ]; then
    echo "conformance: the fake bridge did not start" >&2
    cat "$WORKDIR/fake-bridge.log" >&2 || true
    exit 1
fi
cat >"$WORKDIR/bridges.yaml" <<YAML
bridges:
  - id: sh-dummy
    mautrix:
      url: $FAKE_URL
      userID: "@alice:example.test"
YAML

BRIDGES_ACCESS_TOKEN="$TOKEN" BRIDGES_DEMO_QR_REFRESH_SECONDS=2 \
    BRIDGES_BRIDGE_SH_DUMMY_MAUTRIX_SHARED_SECRET=fake-provisioning-secret-0123456789 \
    "$BIN" serve --host 127.0.0.1 --port "$PORT" --data-dir "$DATA_DIR" --config "$WORKDIR/bridges.yaml" >"$LOG" 2>&1 &
SERVER_PID=$!

# --- Wait for GET /v1/info (no token needed), at most 60 s -----------------------------------
if ! "$PY" - "$BASE_URL" "$SERVER_PID" <<'EOF'
import os, sys, time
import httpx

base_url, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        print("conformance: the server exited before it answered", file=sys.stderr)
        sys.exit(1)
    try:
        if httpx.get(f"{base_url}/v1/info", timeout=2).status_code == 200:
            sys.exit(0)
    except httpx.HTTPError:
        pass
    time.sleep(0.25)
print(f"conformance: no answer from {base_url}/v1/info within 60 s", file=sys.stderr)
sys.exit(1)
EOF
then
    exit 1   # the EXIT trap stops the server and prints its log
fi

# --- Run the tests --------------------------------------------------------------------------
set +e
env -u BEEPER_CUSTOM_HEADERS \
    BEEPER_BASE_URL="$BASE_URL" \
    BEEPER_ACCESS_TOKEN="$TOKEN" \
    BRIDGES_MAUTRIX_BRIDGE=sh-dummy \
    BRIDGES_CLI="$BIN" \
    CONFORMANCE_DATA_DIR="$DATA_DIR" \
    FAKE_BRIDGE_CONTROL="$FAKE_CONTROL" \
    PYTHONDONTWRITEBYTECODE=1 \
    timeout -k 10 "${CONFORMANCE_TIMEOUT:-900}" \
    "$PY" -m pytest -q -p no:cacheprovider "$ROOT/Tests/conformance" "$@"
STATUS=$?

# --- Fuzz the server's own OpenAPI document with schemathesis -------------------------------
# Bounded: a fixed number of examples per operation. `positive_data_acceptance` is left out: it
# expects every schema-valid body to be accepted, but whether a step's fields are complete depends
# on the step, which no schema can say (the server answers 422 with details.issues, as it should).
FUZZ_VENV="$ROOT/.build/fuzz-venv"
if ! "$FUZZ_VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    rm -rf "$FUZZ_VENV"
    python3 -m venv "$FUZZ_VENV"
fi
"$FUZZ_VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$ROOT/Tests/conformance/fuzz-requirements.txt"
# Run from the scratch folder: schemathesis keeps a cache in its working directory.
(cd "$WORKDIR" && timeout -k 10 "${FUZZ_TIMEOUT:-600}" "$FUZZ_VENV/bin/schemathesis" --no-color run "$BASE_URL/v1/spec" --url "$BASE_URL" \
    -H "Authorization: Bearer $TOKEN" --max-examples "${FUZZ_EXAMPLES:-50}" --checks all \
    --exclude-checks positive_data_acceptance --seed 1)
FUZZ_STATUS=$?
set -e

if [ "$STATUS" -eq 0 ] && [ "$FUZZ_STATUS" -ne 0 ]; then STATUS=$FUZZ_STATUS; fi
exit "$STATUS"   # non-zero: the EXIT trap prints the server log
