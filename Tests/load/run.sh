#!/usr/bin/env bash
# Sustained mixed load from a second process (wrk, on loopback, bounded in time): no error
# responses, every login completed during the run present afterwards, and no growth in memory
# once the run settles. Meanwhile 200 sockets (Tests/load/subscribers.py) follow every bridge on
# /v1/ws and must each see every completed login exactly once. Ends with `N passed, N failed`.
#
#   bash Tests/load/run.sh [binary]      (default .build/debug/bridges; needs wrk, and a Python
#                                         with `websockets`: LOAD_PYTHON, default the conformance
#                                         venv .build/conformance-venv/bin/python; LOAD_SUBSCRIBERS=200)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BIN="${1:-.build/debug/bridges}"
DURATION="${LOAD_SECONDS:-10}"
PY="${LOAD_PYTHON:-.build/conformance-venv/bin/python}"
SUBSCRIBERS="${LOAD_SUBSCRIBERS:-200}"
if ! "$PY" -c 'import websockets' >/dev/null 2>&1; then
    echo "load: $PY has no websockets: run Tests/conformance/run.sh first (it makes the venv)" >&2
    exit 1
fi

WORKDIR="$(mktemp -d "${TMPDIR:-/tmp}/bridges-load.XXXXXX")"
TOKEN="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
URL="http://127.0.0.1:$PORT"
BRIDGES_ACCESS_TOKEN="$TOKEN" BRIDGES_SESSIONS_FINISHED_RETENTION_SECONDS=1 BRIDGES_LOG_LEVEL=warning \
    "$BIN" serve --port "$PORT" --data-dir "$WORKDIR/data" >"$WORKDIR/server.log" 2>&1 &
PID=$!
SUBS_PID=""
cleanup() {
    exec 4>&- 2>/dev/null || true
    if [ -n "$SUBS_PID" ]; then kill "$SUBS_PID" 2>/dev/null || true; wait "$SUBS_PID" 2>/dev/null || true; fi
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    rm -rf "$WORKDIR"
}
trap cleanup EXIT
for _ in $(seq 1 100); do curl -sf "$URL/v1/info" >/dev/null && break; sleep 0.1; done

rss() { awk '/^VmRSS/ { print $2 }' "/proc/$PID/status"; }
count_logins() {
    curl -sf -H "Authorization: Bearer $TOKEN" "$URL/v1/bridges/demo-password/logins" \
        | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["items"]))'
}
# One connection per wrk thread: the script's state (a session awaiting its step) is per thread.
load() {
    BRIDGES_LOAD_TOKEN="$TOKEN" BRIDGES_LOAD_RUN="$2" BRIDGES_LOAD_DELAY_MS="${3:-0}" wrk -t2 -c2 -d"$1"s --timeout 10s -s Tests/load/mixed.lua "$URL" | tee "$WORKDIR/wrk.out"
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

# The subscribers: connected and subscribed before wrk starts; they read until their stdin (a
# FIFO this script holds open on fd 4) closes. `timeout` bounds them whatever happens.
mkfifo "$WORKDIR/subscribers.stdin"
timeout -k 5 $((DURATION + 300)) "$PY" Tests/load/subscribers.py "$URL" "$TOKEN" "$WORKDIR/subscribers.json" \
    --count "$SUBSCRIBERS" --prefix "load-measured-" <"$WORKDIR/subscribers.stdin" >"$WORKDIR/subscribers.out" &
SUBS_PID=$!
exec 4>"$WORKDIR/subscribers.stdin"
subscribed=no
for _ in $(seq 1 900); do
    grep -q '^subscribed' "$WORKDIR/subscribers.out" 2>/dev/null && { subscribed=yes; break; }
    kill -0 "$SUBS_PID" 2>/dev/null || break
    sleep 0.1
done
if [ "$subscribed" != yes ]; then
    echo "load: the $SUBSCRIBERS subscribers did not subscribe within 90 s" >&2
    exit 1
fi
subscribed_rss=$(rss)

# Paced: the 200 subscribers share one Python process, which reads far slower than the server
# writes; unpaced, every one of them falls more than its buffer behind and is rightly dropped.
load "$DURATION" measured "${LOAD_DELAY_MS:-200}"
non200=$(sed -n 's/.*non200=\([0-9]*\).*/\1/p' "$WORKDIR/wrk.out")
completed=$(sed -n 's/.*logins_completed=\([0-9]*\).*/\1/p' "$WORKDIR/wrk.out")
socket_errors=$(grep -c "Socket errors" "$WORKDIR/wrk.out" || true)
sleep 3
loaded_rss=$(rss)
after_logins=$(count_logins)
# "Completed logins" are the logins the server completed during the measured run: wrk counts
# the submits it saw answered `complete`, but a submit still in flight when wrk stops completes
# on the server unseen (at most one per connection). So the reference is the server's own list:
# every demo-password login named load-measured-* (mixed.lua names them load-<run>-<thread>-<n>,
# each username used once), which the count check below ties to wrk's count.
curl -sf -H "Authorization: Bearer $TOKEN" "$URL/v1/bridges/demo-password/logins" >"$WORKDIR/logins.json"
# The subscribers first drain what the server already sent them (they read slower than it
# writes), then stop reading and write what they saw.
"$PY" -c 'import json, sys; print(sum(1 for l in json.load(open(sys.argv[1]))["items"] if l["loginID"].startswith("load-measured-")))' \
    "$WORKDIR/logins.json" >&4
exec 4>&-
subs_status=0
wait "$SUBS_PID" || subs_status=$?
SUBS_PID=""
sleep 3                           # the sockets gone, the server settles
after_rss=$(rss)

[ "$non200" = 0 ] && [ "$socket_errors" = 0 ] && r=ok || r=no
check "$r" "no error responses ($non200 non-200, $socket_errors socket error lines)"
# A submit still in flight when wrk stops completes on the server unseen: at most one per connection.
added=$((after_logins - before_logins))
[ "$completed" -gt 0 ] && [ "$added" -ge "$completed" ] && [ "$added" -le $((completed + 2)) ] && r=ok || r=no
check "$r" "$completed logins completed during the run, $added added (every one present)"
# Settled memory may differ by allocator noise; a leak of sessions would be far more.
[ "$after_rss" -le $((before_rss + before_rss / 5 + 8192)) ] && r=ok || r=no
check "$r" "resident memory ${before_rss} kB before, ${after_rss} kB after (${subscribed_rss} kB with $SUBSCRIBERS subscribers, ${loaded_rss} kB after wrk)"
# Every subscriber saw every completed login exactly once: once as a login-session.updated with
# status complete, once as a login.upserted; no error message, no socket closed early, no seq gap.
r=no seen_logins="?" seen_events="?"
if [ "$subs_status" = 0 ] && [ -s "$WORKDIR/subscribers.json" ]; then
    read -r r seen_logins seen_events < <(python3 Tests/load/check_subscribers.py \
        "$WORKDIR/logins.json" "$WORKDIR/subscribers.json" "$SUBSCRIBERS") || r=no
else
    echo "load: the subscribers exited with $subs_status" >&2
fi
check "$r" "$SUBSCRIBERS subscribers each saw all $seen_logins completed logins exactly once ($seen_events events in all)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
