"""Two users at once, each through their own official-SDK client (strict validation).

Both users are added to the running server's data with the `bridges` tool (`user add`, then
`token create --user`), as an operator would, and then sign in on every demo network at the
same time from two threads. Each must see exactly their own logins and accounts: not the other's,
and not the owner's (whose token `run.sh` sets and whose logins the other test files make).
"""

from __future__ import annotations

import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Dict, List, Tuple

import httpx
import pytest

from beeper_desktop_api import BeeperDesktop, NotFoundError
from beeper_desktop_api.types import LoginSession
from beeper_desktop_api.types.login_session import (
    CurrentStepCookies,
    CurrentStepDisplayAndWait,
    CurrentStepDisplayAndWaitDisplayQRCode,
    CurrentStepUserInput,
)

from conftest import CLI, DATA_DIR, make_client, needs_local_data, unique_username, wait_for_terminal

pytestmark = needs_local_data

DEMO_BRIDGES = ("demo-password", "demo-messenger", "demo-cookies", "demo-workspace")
# demo-messenger's one phone always signs in as the same login, whoever scans.
MESSENGER_ACCOUNT = "demo-messenger_phone-15550100"


def add_user_with_token(user_id: str) -> str:
    """What an operator does on the server's machine: add the user, then give them a token."""
    added = subprocess.run(
        [CLI, "user", "add", user_id, "--data-dir", DATA_DIR], capture_output=True, text=True, timeout=60
    )
    assert added.returncode == 0, added.stderr
    created = subprocess.run(
        [CLI, "token", "create", "--user", user_id, "--name", "conformance-two-users", "--data-dir", DATA_DIR],
        capture_output=True, text=True, timeout=60,
    )
    assert created.returncode == 0, created.stderr
    assert user_id in created.stderr, created.stderr
    token = created.stdout.strip()
    assert token.startswith("bt_"), created.stdout
    return token


@dataclass
class Signed:
    """What one user's thread signed in to."""

    sessions: List[Tuple[str, str]] = field(default_factory=list)  # (bridge ID, session ID)
    logins: Dict[str, List[str]] = field(default_factory=dict)
    accounts: List[str] = field(default_factory=list)

    def add(self, done: LoginSession) -> None:
        assert done.status == "complete", done
        assert done.login is not None, done
        self.sessions.append((done.bridge_id, done.login_session_id))
        self.logins.setdefault(done.bridge_id, []).append(done.login.login_id)
        self.accounts.extend(done.login.account_ids or [])


def submit_fields(client: BeeperDesktop, session: LoginSession, values: Dict[str, str]) -> LoginSession:
    step = session.current_step
    assert isinstance(step, CurrentStepUserInput), session
    return client.bridges.login_sessions.steps.submit(
        step.step_id, bridge_id=session.bridge_id, login_session_id=session.login_session_id, type="user_input",
        fields=values,
    )


def sign_in_everywhere(client: BeeperDesktop, shared_username: str, email: str) -> Signed:
    """A full login on each demo network, one after another, as one user."""
    signed = Signed()

    # demo-password, two steps: the username asks for a code. Both users pick the same one.
    session = client.bridges.login_sessions.create("demo-password", flow_id="password")
    code = submit_fields(client, session, {"username": shared_username, "password": "pw"})
    signed.add(submit_fields(client, code, {"code": "123456"}))

    # demo-workspace: one login holding three accounts.
    session = client.bridges.login_sessions.create("demo-workspace", flow_id="email")
    signed.add(submit_fields(client, session, {"email": email, "password": "pw"}))

    # demo-cookies: the values a browser would hand over.
    session = client.bridges.login_sessions.create("demo-cookies", flow_id="cookies")
    step = session.current_step
    assert isinstance(step, CurrentStepCookies), session
    signed.add(
        client.bridges.login_sessions.steps.submit(
            step.step_id, bridge_id="demo-cookies", login_session_id=session.login_session_id, type="cookies",
            fields={f.id: uuid.uuid4().hex for f in step.fields}, source="api",
        )
    )

    # demo-messenger: a QR code "scanned" by opening its URL, as a phone would (no token).
    session = client.bridges.login_sessions.create("demo-messenger", flow_id="qr")
    step = session.current_step
    assert isinstance(step, CurrentStepDisplayAndWait), session
    assert isinstance(step.display, CurrentStepDisplayAndWaitDisplayQRCode), step.display
    opened = httpx.get(step.display.data, follow_redirects=True, timeout=10)
    assert opened.status_code == 200, opened.text
    signed.add(wait_for_terminal(client, "demo-messenger", session.login_session_id))
    return signed


def seen_by(client: BeeperDesktop) -> Signed:
    """Everything the client's user is shown, bridge by bridge."""
    seen = Signed()
    for bridge_id in DEMO_BRIDGES:
        logins = [l.login_id for l in client.bridges.logins.list(bridge_id).items]
        if logins:
            seen.logins[bridge_id] = logins
        seen.accounts.extend(a.account_id for a in client.bridges.retrieve(bridge_id).accounts)
    return seen


def test_two_users_sign_in_at_once_and_see_only_their_own():
    run = uuid.uuid4().hex[:8]
    users = [f"@first-{run}:example.test", f"@second-{run}:example.test"]
    clients = [make_client(access_token=add_user_with_token(user)) for user in users]
    owner = make_client()
    try:
        # Fresh users see every bridge empty, whatever the owner has.
        for client in clients:
            assert client.accounts.list() == []
            assert all(bridge.accounts == [] for bridge in client.bridges.list().items)

        shared = unique_username("shared-2fa")
        emails = [f"{run}-{i}@example.com" for i in range(2)]
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(sign_in_everywhere, c, shared, e) for c, e in zip(clients, emails)]
            signed = [f.result(timeout=120) for f in futures]

        for mine, client in zip(signed, clients):
            assert set(mine.logins) == set(DEMO_BRIDGES)
            assert mine.logins["demo-password"] == [shared]
            assert len(mine.accounts) == 6, mine.accounts  # password, cookies, messenger, and three workspaces
            assert sorted(a.account_id for a in client.accounts.list()) == sorted(mine.accounts)
            seen = seen_by(client)
            assert seen.logins == mine.logins
            assert sorted(seen.accounts) == sorted(mine.accounts)

        # The same login IDs on both sides (the shared username, the one phone) are two logins
        # each; the rest differ, and are missing for the other user.
        first, second = signed
        common = {f"demo-password_{shared}", MESSENGER_ACCOUNT}
        assert set(first.accounts) & set(second.accounts) == common
        for (mine, client), theirs in zip(zip(signed, clients), reversed(signed)):
            for bridge_id in ("demo-workspace", "demo-cookies"):
                with pytest.raises(NotFoundError):
                    client.bridges.logins.retrieve(theirs.logins[bridge_id][0], bridge_id=bridge_id)
            for account_id in set(theirs.accounts) - common:
                with pytest.raises(NotFoundError):
                    client.accounts.retrieve(account_id)
            for bridge_id, session_id in theirs.sessions:
                with pytest.raises(NotFoundError):
                    client.bridges.login_sessions.retrieve(session_id, bridge_id=bridge_id)
            for bridge_id, session_id in mine.sessions:
                assert client.bridges.login_sessions.retrieve(session_id, bridge_id=bridge_id).status == "complete"

        # The owner sees none of it.
        owners = {a.account_id for a in owner.accounts.list()}
        assert not owners & ((set(first.accounts) | set(second.accounts)) - {MESSENGER_ACCOUNT})
        assert shared not in [l.login_id for l in owner.bridges.logins.list("demo-password").items]

        # Removing the shared login for one user leaves the other's.
        removed = clients[0].bridges.logins.remove(shared, bridge_id="demo-password", scope="all-devices")
        assert removed.affected_account_ids == [f"demo-password_{shared}"]
        assert [l.login_id for l in clients[0].bridges.logins.list("demo-password").items] == []
        assert [l.login_id for l in clients[1].bridges.logins.list("demo-password").items] == [shared]
    finally:
        for client in clients + [owner]:
            client.close()
