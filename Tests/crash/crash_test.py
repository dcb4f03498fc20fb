"""Crash safety: SIGKILL `bridges serve` in the middle of a stream of logins, removals and
session steps, start it again on the same data directory, and check that nothing a client was
told is lost or comes back, that no session is left in progress, and that the database is sound.

    python Tests/crash/crash_test.py --bin .build/debug/bridges [--rounds 5]

Prints one line per round and ends with `N passed, N failed`.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import httpx

TERMINAL = {"complete", "failed", "cancelled"}


class Server:
    def __init__(self, binary: str, data_dir: str, token: str):
        self.binary, self.data_dir, self.token = binary, data_dir, token
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log = open(os.path.join(os.path.dirname(data_dir), "server.log"), "ab")

    def start(self) -> None:
        env = dict(os.environ, BRIDGES_ACCESS_TOKEN=self.token)
        self.process = subprocess.Popen(
            [self.binary, "serve", "--port", str(self.port), "--data-dir", self.data_dir],
            env=env, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/v1/info", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


class Ledger:
    """What clients were told, from answers they actually received."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.existing: set[str] = set()      # logins a client saw completed, and not removed since
        self.removed: set[str] = set()       # logins a client saw removed
        self.sessions: set[str] = set()      # every session a client saw created


def drive(server: Server, ledger: Ledger, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    client = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=5)
    base = "/v1/bridges/demo-password"
    while not stop.is_set():
        try:
            choice = rng.random()
            if choice < 0.2 and ledger.existing:
                # Once a remove is sent, the login is in doubt until its answer arrives: the
                # server may have removed it just before it was killed.
                with ledger.lock:
                    login = rng.choice(sorted(ledger.existing))
                    ledger.existing.discard(login)
                answer = client.post(f"{base}/logins/{login}/remove", json={"scope": "all-devices"})
                if answer.status_code == 200:
                    with ledger.lock:
                        ledger.removed.add(login)
                continue
            created = client.post(f"{base}/login-sessions", json={})
            if created.status_code != 200:
                continue
            session = created.json()
            with ledger.lock:
                ledger.sessions.add(session["loginSessionID"])
            if choice < 0.35:
                continue  # left in progress on purpose
            username = f"crash-{uuid.uuid4().hex[:10]}"
            step = session["currentStep"]["stepID"]
            done = client.post(
                f"{base}/login-sessions/{session['loginSessionID']}/steps/{step}",
                json={"type": "user_input", "fields": {"username": username, "password": "pw"}})
            if done.status_code == 200 and done.json().get("status") == "complete":
                with ledger.lock:
                    ledger.existing.add(username)
        except httpx.HTTPError:
            time.sleep(0.02)  # the server is down; keep trying until told to stop


def verify(server: Server, ledger: Ledger) -> list[str]:
    problems: list[str] = []
    client = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=10)
    logins = {item["loginID"] for item in client.get("/v1/bridges/demo-password/logins").json()["items"]}
    accounts = {item["accountID"] for item in client.get("/v1/accounts").json()}
    for login in ledger.existing:
        if login not in logins:
            problems.append(f"login {login} was reported complete but is gone")
        if f"demo-password_{login}" not in accounts:
            problems.append(f"account of {login} is gone")
    for login in ledger.removed:
        if login in logins:
            problems.append(f"removed login {login} came back")
    for session_id in ledger.sessions:
        answer = client.get(f"/v1/bridges/demo-password/login-sessions/{session_id}")
        if answer.status_code != 200:
            problems.append(f"session {session_id} answered {answer.status_code}")
            continue
        session = answer.json()
        if session["status"] not in TERMINAL:
            problems.append(f"session {session_id} is stuck in {session['status']}")
        elif session["status"] == "failed" and session.get("error", {}).get("code") not in ("server_restarted", "session_expired"):
            problems.append(f"session {session_id} failed with {session.get('error')}")
    database = sqlite3.connect(os.path.join(server.data_dir, "bridges.sqlite"))
    check = database.execute("PRAGMA integrity_check").fetchall()
    database.close()
    if check != [("ok",)]:
        problems.append(f"integrity check: {check}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    options = parser.parse_args()
    rng = random.Random(options.seed)
    print(f"crash: seed {options.seed}")

    with tempfile.TemporaryDirectory(prefix="bridges-crash-") as root:
        data_dir = os.path.join(root, "data")
        server = Server(os.path.abspath(options.bin), data_dir, secrets.token_hex(32))
        ledger = Ledger()
        passed = failed = 0
        server.start()
        try:
            for round_number in range(1, options.rounds + 1):
                stop = threading.Event()
                workers = [
                    threading.Thread(target=drive, args=(server, ledger, stop, rng.random()), daemon=True)
                    for _ in range(options.workers)
                ]
                for worker in workers:
                    worker.start()
                time.sleep(rng.uniform(0.5, 2.0))
                server.kill()
                stop.set()
                for worker in workers:
                    worker.join()
                server.start()
                problems = verify(server, ledger)
                summary = (f"round {round_number}: {len(ledger.existing)} logins kept, {len(ledger.removed)} removed, "
                           f"{len(ledger.sessions)} sessions checked")
                if problems:
                    failed += 1
                    print(f"crash: FAILED {summary}")
                    for problem in problems[:20]:
                        print(f"  - {problem}")
                else:
                    passed += 1
                    print(f"crash: ok {summary}")
        finally:
            server.stop()
            if failed:
                server.log.flush()
                with open(os.path.join(root, "server.log"), "rb") as log:
                    sys.stdout.write(log.read()[-4000:].decode(errors="replace"))
        print(f"{passed} passed, {failed} failed")
        return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
