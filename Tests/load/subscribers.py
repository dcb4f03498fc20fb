"""Subscribers for the load run: N `/v1/ws` sockets following every bridge while wrk drives logins.

    python subscribers.py URL TOKEN RESULT_FILE [--count 200] [--prefix load-measured-]

Connects `--count` sockets (Authorization header), subscribes each to `bridgeIDs: ["*"]`, then
prints `subscribed N` on stdout: the load run starts wrk only after that line. It reads events
until its stdin ends (the load run closes it once wrk has stopped and the server has settled) or
SIGTERM, or, once the load run writes on its stdin how many logins completed, until every
socket has seen them all (bounded), then writes RESULT_FILE: for each subscriber, the login IDs (with `--prefix`) it saw in a
`login-session.updated` with status `complete` and in a `login.upserted`, each as a list (so a
duplicate shows), plus every `error` message and every socket that closed early. Exits non-zero
if a socket could not connect or subscribe within its bound.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from typing import Any, Dict, List

from websockets.asyncio.client import ClientConnection, connect

CONNECT_SECONDS = 30.0
DRAIN_SECONDS = 120.0


class Subscriber:
    def __init__(self, index: int, prefix: str) -> None:
        self.index = index
        self.prefix = prefix
        self.completed: List[str] = []   # loginIDs of login-session.updated with status complete
        self.upserted: List[str] = []    # loginIDs of login.upserted
        self.errors: List[Dict[str, Any]] = []
        self.closed: str | None = None   # why the socket ended before it was told to stop
        self.events = 0
        self.last_seq = 0
        self.seq_gaps = 0

    def take(self, message: Dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "error":
            self.errors.append(message)
            return
        if "seq" not in message:
            return
        self.events += 1
        if message["seq"] != self.last_seq + 1:
            self.seq_gaps += 1
        self.last_seq = message["seq"]
        data = message.get("data") or {}
        if kind == "login-session.updated" and data.get("status") == "complete":
            login_id = data.get("loginID") or ""
            if login_id.startswith(self.prefix):
                self.completed.append(login_id)
        elif kind == "login.upserted":
            login_id = data.get("loginID") or ""
            if login_id.startswith(self.prefix):
                self.upserted.append(login_id)


async def subscribe(url: str, token: str, subscriber: Subscriber) -> ClientConnection:
    # No limits on queued or large messages: the client must never be the slow reader here
    # (a bridge.updated carries every account of the bridge, which grows during the run).
    ws = await connect(
        url, additional_headers={"Authorization": f"Bearer {token}"}, max_size=None, max_queue=None,
        open_timeout=CONNECT_SECONDS, ping_interval=None,
    )
    ready = json.loads(await ws.recv())
    assert ready.get("type") == "ready", ready
    await ws.send(json.dumps({"type": "subscriptions.set", "requestID": f"s{subscriber.index}", "bridgeIDs": ["*"]}))
    updated = json.loads(await ws.recv())
    assert updated.get("type") == "subscriptions.updated", updated
    return ws


async def read(ws: ClientConnection, subscriber: Subscriber, stopping: asyncio.Event) -> None:
    try:
        async for frame in ws:
            subscriber.take(json.loads(frame))
    except Exception as error:  # noqa: BLE001 - recorded, checked by the load run
        if not stopping.is_set():
            subscriber.closed = f"{type(error).__name__}: {error}"
        return
    if not stopping.is_set():
        subscriber.closed = f"closed by the server: {ws.close_code} {ws.close_reason}"


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("token")
    parser.add_argument("result")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--prefix", default="load-measured-")
    args = parser.parse_args()
    ws_url = args.url.replace("http://", "ws://", 1) + "/v1/ws"

    subscribers = [Subscriber(i, args.prefix) for i in range(args.count)]
    try:
        sockets = await asyncio.wait_for(
            asyncio.gather(*(subscribe(ws_url, args.token, s) for s in subscribers)), CONNECT_SECONDS * 2)
    except Exception as error:  # noqa: BLE001
        print(f"subscribers: could not subscribe {args.count} sockets: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    stopping = asyncio.Event()
    readers = [asyncio.create_task(read(ws, s, stopping)) for ws, s in zip(sockets, subscribers)]
    print(f"subscribed {len(sockets)}", flush=True)

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    expected: List[int] = []

    def on_stdin() -> None:
        # A number: how many logins to wait for (drain what is still on its way, then stop);
        # the end of the input: stop now.
        line = sys.stdin.readline()
        if not line:
            stop.set()
        elif line.strip().isdigit():
            expected.append(int(line.strip()))

    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_reader(sys.stdin.fileno(), on_stdin)

    def drained() -> bool:
        if not expected:
            return False
        return all(
            s.closed is not None or (len(set(s.completed)) >= expected[0] and len(set(s.upserted)) >= expected[0])
            for s in subscribers)

    # The server sends faster than 200 sockets in one Python process read; what was sent is
    # still owed to them when wrk stops. Bounded: at most DRAIN_SECONDS after the count arrives.
    waited = 0.0
    while not stop.is_set() and not drained() and (not expected or waited < DRAIN_SECONDS):
        await asyncio.sleep(0.1)
        if expected:
            waited += 0.1

    stopping.set()
    await asyncio.wait_for(asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True), 30)
    await asyncio.gather(*readers, return_exceptions=True)
    with open(args.result, "w") as out:
        json.dump([vars(s) for s in subscribers], out)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
