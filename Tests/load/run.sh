#!/usr/bin/env bash
# Sustained mixed load from a second process (wrk, on loopback, bounded in time): no error
# responses, every login completed during the run present afterwards, and no growth in memory
# once the run settles. Ends with `N passed, N failed`.
#
#   bash Tests/load/run.sh [binary]      (default .build/debug/bridges; needs wrk)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BIN="${1:-.build/debug/bridges}"
DURATION="${LOAD_SECONDS:-10}"

WORKDIR="$(mktemp -d "${TMPDIR:-/tmp}/bridges-load.XXXXXX")"
TOKEN="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
URL="http://127.0.0.1:$PORT"
BRIDGES_ACCESS_TOKEN="$TOKEN" BRIDGES_SESSIONS_FINISHED_RETENTION_SECONDS=1 BRIDGES_LOG_LEVEL=warning \
    "$BIN" serve --port "$PORT" --data-dir "$WORKDIR/data" >"$WORKDIR/server.log" 2>&1 &
PID=$!
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$WORKDIR"' EXIT
for _ in $(seq 1 100); do curl -sf "$URL/v1/info" >/dev/null && break; sleep 0.1; done

rss() { awk '/^VmRSS/ { print $2 }' "/proc/$PID/status"; }
count_logins() {
    curl -sf -H "Authorization: Bearer $TOKEN" "$URL/v1/bridges/demo-password/logins" \
        | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["items"]))'
}
# One connection per wrk thread: the script's state (a session awaiting its step) is per thread.
load() {
    BRIDGES_LOAD_TOKEN="$TOKEN" BRIDGES_LOAD_RUN="$2" wrk -t2 -c2 -d"$1"s --timeout 10s -s Tests/load/mixed.lua "$URL" | tee "$WORKDIR/wrk.out"
}

passed=0
failed=0
check() {
    if [ "$1" = ok ]; then passed=$((passed + 1)); echo "load: ok $2"; else failed=$((failed + 1)); echo "load: FAILED $2"; fi
}

load 3 warmup >/dev/null          # warm up: caches, pools, the allocator's arenas
sleep 3
before_rss=$(rss)
before_logins=$(count_logins)
load "$DURATION" measured
non200=$(sed -n 's/.*non200=\([0-9]*\).*/\1/p' "$WORKDIR/wrk.out")
completed=$(sed -n 's/.*logins_completed=\([0-9]*\).*/\1/p' "$WORKDIR/wrk.out")
socket_errors=$(grep -c "Socket errors" "$WORKDIR/wrk.out" || true)
sleep 3
after_rss=$(rss)
after_logins=$(count_logins)

[ "$non200" = 0 ] && [ "$socket_errors" = 0 ] && r=ok || r=no
check "$r" "no error responses ($non200 non-200, $socket_errors socket error lines)"
# A submit still in flight when wrk stops completes on the server unseen: at most one per connection.
added=$((after_logins - before_logins))
[ "$completed" -gt 0 ] && [ "$added" -ge "$completed" ] && [ "$added" -le $((completed + 2)) ] && r=ok || r=no
check "$r" "$completed logins completed during the run, $added added (every one present)"
# Settled memory may differ by allocator noise; a leak of sessions would be far more.
[ "$after_rss" -le $((before_rss + before_rss / 5 + 8192)) ] && r=ok || r=no
check "$r" "resident memory ${before_rss} kB before, ${after_rss} kB after"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
