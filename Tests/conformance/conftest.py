"""What the conformance tests share: where the server is, SDK clients, and polling a login session.

`run.sh` starts the server and sets the environment read here. Fixtures are found by pytest;
constants and helpers are imported (`from conftest import BASE_URL, wait_for_status`), which works
because pytest puts this directory on `sys.path` for its conftest.
"""

from __future__ import annotations

import os
import time
import uuid
from typing import Callable, Iterator
from urllib.parse import urlparse

import httpx
import pytest

from beeper_desktop_api import BeeperDesktop
from beeper_desktop_api.types import LoginSession

BASE_URL = os.environ.get("BEEPER_BASE_URL", "")
TOKEN = os.environ.get("BEEPER_ACCESS_TOKEN", "")
CLI = os.environ.get("BRIDGES_CLI", "")
MAUTRIX_BRIDGE = os.environ.get("BRIDGES_MAUTRIX_BRIDGE", "")
FAKE_BRIDGE_CONTROL = os.environ.get("FAKE_BRIDGE_CONTROL", "")
# The running server's data directory, for the `bridges` commands that manage it on its machine
# (`user add`, `token create --user`). Not a BRIDGES_ variable: those configure the tool itself.
DATA_DIR = os.environ.get("CONFORMANCE_DATA_DIR", "")

TERMINAL = ("complete", "cancelled", "failed")

needs_server = pytest.mark.skipif(
    not (BASE_URL and TOKEN),
    reason="BEEPER_BASE_URL and BEEPER_ACCESS_TOKEN must point at a running Bridges server (use run.sh)",
)
needs_cli = pytest.mark.skipif(not (CLI and BASE_URL and TOKEN), reason="run through run.sh")
needs_local_data = pytest.mark.skipif(
    not (CLI and BASE_URL and TOKEN and DATA_DIR),
    reason="run through run.sh, which gives the tests the server's data directory",
)
needs_fake_bridge = pytest.mark.skipif(
    not (BASE_URL and TOKEN and MAUTRIX_BRIDGE and FAKE_BRIDGE_CONTROL),
    reason="run through run.sh, which starts a fake mautrix bridge behind the server",
)


def make_client(**overrides: object) -> BeeperDesktop:
    """A fresh SDK client in strict validation mode. `client.with_options()` / `copy()` would
    silently drop `_strict_response_validation`, so every variant is built from scratch."""
    options: dict[str, object] = {"access_token": TOKEN, "base_url": BASE_URL, "_strict_response_validation": True}
    options.update(overrides)
    return BeeperDesktop(**options)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def client() -> Iterator[BeeperDesktop]:
    c = make_client()
    yield c
    c.close()


@pytest.fixture(scope="session")
def no_retry() -> Iterator[BeeperDesktop]:
    """For calls expected to fail with 409: the SDK retries 408/409/429/5xx twice by default."""
    c = make_client(max_retries=0)
    yield c
    c.close()


@pytest.fixture(scope="session")
def raw() -> Iterator[httpx.Client]:
    """Plain httpx with the bearer token, for the few calls the SDK cannot make."""
    with httpx.Client(base_url=BASE_URL, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as c:
        yield c


def server_port() -> int:
    port = urlparse(BASE_URL).port
    assert port is not None, BASE_URL
    return port


def unique_username(prefix: str = "user") -> str:
    """A fresh username for a demo login. The random part never holds "2fa", which would switch
    demo-password to its two-step flow; put it in `prefix` to get that flow."""
    while True:
        suffix = uuid.uuid4().hex[:12]
        if "2fa" not in suffix:
            return f"{prefix}-{suffix}"


def poll_session(
    client: BeeperDesktop, bridge_id: str, session_id: str, until: Callable[[LoginSession], bool],
    seconds: float = 20, interval: float = 0.1,
) -> LoginSession:
    """Retrieves the session until `until` holds or `seconds` pass, and returns the last answer:
    the caller asserts on it, so a timeout fails with the session in the message."""
    deadline = time.monotonic() + seconds
    while True:
        session = client.bridges.login_sessions.retrieve(session_id, bridge_id=bridge_id)
        if until(session) or time.monotonic() > deadline:
            return session
        time.sleep(interval)


def wait_for_status(
    client: BeeperDesktop, bridge_id: str, session_id: str, *statuses: str, seconds: float = 20,
) -> LoginSession:
    return poll_session(client, bridge_id, session_id, lambda s: s.status in statuses, seconds)


def wait_for_terminal(client: BeeperDesktop, bridge_id: str, session_id: str, seconds: float = 20) -> LoginSession:
    return wait_for_status(client, bridge_id, session_id, *TERMINAL, seconds=seconds)
