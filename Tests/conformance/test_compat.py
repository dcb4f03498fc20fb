"""Clients of every era, with the official Python SDK at its default settings.

- `x-should-retry`: the SDK retries 409 and 5xx twice with backoff unless the server says a retry
  is useless. Each test counts the requests the server actually saw, through an httpx hook.
- The connections era: Beeper's SDKs once called logins "connections". A strict SDK whose requests
  are rewritten from `/logins` to `/connections` must read the same answers.
"""

from __future__ import annotations

import os
import time
import uuid
from typing import List

import httpx
import pytest

from beeper_desktop_api import BeeperDesktop, ConflictError, NotFoundError

BASE_URL = os.environ.get("BEEPER_BASE_URL", "")
TOKEN = os.environ.get("BEEPER_ACCESS_TOKEN", "")

pytestmark = pytest.mark.skipif(
    not BASE_URL or not TOKEN,
    reason="BEEPER_BASE_URL and BEEPER_ACCESS_TOKEN must point at a running Bridges server (use run.sh)",
)

PASSWORD_BRIDGE = "demo-password"


class SeenRequests:
    """Every request an SDK client sent, as (method, path)."""

    def __init__(self) -> None:
        self.seen: List[tuple[str, str]] = []

    def __call__(self, request: httpx.Request) -> None:
        self.seen.append((request.method, request.url.path))

    def count(self, method: str, path_suffix: str) -> int:
        return sum(1 for m, p in self.seen if m == method and p.endswith(path_suffix))


def sdk_client(*hooks) -> BeeperDesktop:
    """The SDK with its default retry policy (two retries), strict, with request hooks."""
    http = httpx.Client(event_hooks={"request": list(hooks)}, timeout=30)
    return BeeperDesktop(access_token=TOKEN, base_url=BASE_URL, _strict_response_validation=True, http_client=http)


def password_login(client: BeeperDesktop):
    username = f"compat-{uuid.uuid4().hex[:12]}"
    session = client.bridges.login_sessions.create(PASSWORD_BRIDGE, flow_id="password")
    step = session.current_step
    done = client.bridges.login_sessions.steps.submit(
        step.step_id,
        bridge_id=PASSWORD_BRIDGE,
        login_session_id=session.login_session_id,
        type="user_input",
        fields={"username": username, "password": "correct horse battery staple"},
    )
    assert done.status == "complete", done
    return username, done


def test_a_stale_step_is_answered_once_without_retries():
    seen = SeenRequests()
    client = sdk_client(seen)
    session = client.bridges.login_sessions.create(PASSWORD_BRIDGE, flow_id="password")
    stale = f"stale-{uuid.uuid4().hex}"
    started = time.monotonic()
    with pytest.raises(ConflictError) as raised:
        client.bridges.login_sessions.steps.submit(
            stale,
            bridge_id=PASSWORD_BRIDGE,
            login_session_id=session.login_session_id,
            type="user_input",
            fields={"username": "x", "password": "y"},
        )
    elapsed = time.monotonic() - started
    assert raised.value.response.headers.get("x-should-retry") == "false"
    assert seen.count("POST", f"/steps/{stale}") == 1, seen.seen
    # Shown, never asserted: with retries it took about 1.45 s; without, a few milliseconds.
    print(f"409 step_mismatch reached the caller after {elapsed * 1000:.1f} ms")


def test_not_found_is_answered_once_and_a_rate_limit_would_be_retried():
    seen = SeenRequests()
    client = sdk_client(seen)
    with pytest.raises(NotFoundError) as raised:
        client.bridges.login_sessions.retrieve("ls_nothing", bridge_id=PASSWORD_BRIDGE)
    assert raised.value.response.headers.get("x-should-retry") == "false"
    assert seen.count("GET", "/login-sessions/ls_nothing") == 1, seen.seen


def test_the_connections_era_paths_answer_like_logins():
    client = sdk_client()
    username, done = password_login(client)
    raw = httpx.Client(base_url=BASE_URL, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)

    # The session names its login twice, the same object under both names.
    body = raw.get(f"/v1/bridges/{PASSWORD_BRIDGE}/login-sessions/{done.login_session_id}").json()
    assert body["connection"] == body["login"]
    assert body["currentStep"]["connection"] == body["currentStep"]["login"]

    # A strict SDK whose requests go to the connections paths reads the same answers.
    def to_connections(request: httpx.Request) -> None:
        request.url = request.url.copy_with(path=request.url.path.replace("/logins", "/connections"))

    seen = SeenRequests()
    alias = sdk_client(to_connections, seen)
    listed = alias.bridges.logins.list(PASSWORD_BRIDGE)
    assert username in [login.login_id for login in listed.items]
    one = alias.bridges.logins.retrieve(username, bridge_id=PASSWORD_BRIDGE)
    assert one.login_id == username
    assert one == client.bridges.logins.retrieve(username, bridge_id=PASSWORD_BRIDGE)
    with pytest.raises(NotFoundError):
        alias.bridges.logins.retrieve(f"missing-{uuid.uuid4().hex}", bridge_id=PASSWORD_BRIDGE)
    removed = alias.bridges.logins.remove(username, bridge_id=PASSWORD_BRIDGE, scope="all-devices")
    assert removed.status == "removed"
    assert removed.affected_account_ids == [f"{PASSWORD_BRIDGE}_{username}"]
    assert not any("/logins" in path for _, path in seen.seen), seen.seen
    assert seen.count("POST", f"/connections/{username}/remove") == 1
    raw.close()
