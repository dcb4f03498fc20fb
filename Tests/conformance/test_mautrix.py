"""The official SDK against a real-bridge connector: Bridges' mautrix connector talking to a fake
mautrix bridgev2 bridge (`fake-bridge`, new protocol generation), through the same `/v1/bridges`
calls as the demo networks. `run.sh` starts both and sets:

    BRIDGES_MAUTRIX_BRIDGE   the bridge ID configured for the fake (sh-dummy)
    FAKE_BRIDGE_CONTROL      a FIFO that drives the fake: "scan", "refresh"
"""

from __future__ import annotations

import pytest

from beeper_desktop_api import BeeperDesktop, NotFoundError
from beeper_desktop_api.types.login_session import (
    CurrentStepCookies,
    CurrentStepDisplayAndWait,
    CurrentStepDisplayAndWaitDisplayQRCode,
    CurrentStepUserInput,
)

from conftest import FAKE_BRIDGE_CONTROL, MAUTRIX_BRIDGE, needs_fake_bridge, unique_username, wait_for_status

BRIDGE = MAUTRIX_BRIDGE

pytestmark = needs_fake_bridge


def drive_fake(command: str) -> None:
    with open(FAKE_BRIDGE_CONTROL, "w") as control:
        control.write(command + "\n")


def test_the_bridge_is_listed_from_whoami(client: BeeperDesktop):
    bridge = client.bridges.retrieve(BRIDGE)
    assert bridge.provider == "self-hosted"
    assert bridge.display_name == "Dummy"
    assert bridge.type == "dummy"
    assert bridge.status == "available"
    assert BRIDGE in [b.id for b in client.bridges.list().items]
    flows = [f.id for f in client.bridges.login_flows.list(BRIDGE).items]
    assert flows[:4] == ["password", "cookies", "localstorage", "displayandwait"]
    capabilities = client.bridges.retrieve_capabilities(BRIDGE)
    assert capabilities.group_creation == {}
    assert capabilities.resolve_identifier.create_dm is False


def test_password_login_then_remove(client: BeeperDesktop):
    username = unique_username("sdk")
    session = client.bridges.login_sessions.create(BRIDGE, flow_id="password")
    step = session.current_step
    assert isinstance(step, CurrentStepUserInput)
    assert [f.id for f in step.fields] == ["username", "password"]
    done = client.bridges.login_sessions.steps.submit(
        step.step_id, bridge_id=BRIDGE, login_session_id=session.login_session_id,
        type="user_input", fields={"username": username, "password": "pw"},
    )
    assert done.status == "complete", done
    assert done.login_id == username
    assert done.login is not None and done.login.status == "connected"
    assert done.account is not None and done.account.account_id == f"{BRIDGE}_{username}"
    assert done.account.bridge.provider == "self-hosted"

    login = client.bridges.logins.retrieve(username, bridge_id=BRIDGE)
    assert login.remove_scopes == ["all-devices"]
    assert f"{BRIDGE}_{username}" in [a.account_id for a in client.accounts.list()]

    removed = client.bridges.logins.remove(username, bridge_id=BRIDGE, scope="all-devices")
    assert removed.status == "removed"
    assert removed.affected_account_ids == [f"{BRIDGE}_{username}"]
    with pytest.raises(NotFoundError):
        client.bridges.logins.retrieve(username, bridge_id=BRIDGE)


def test_a_bridge_error_fails_the_session_with_its_errcode(client: BeeperDesktop):
    session = client.bridges.login_sessions.create(BRIDGE, flow_id="password")
    step = session.current_step
    assert isinstance(step, CurrentStepUserInput)
    failed = client.bridges.login_sessions.steps.submit(
        step.step_id, bridge_id=BRIDGE, login_session_id=session.login_session_id,
        type="user_input", fields={"username": "x", "password": "incorrectpassword"},
    )
    assert failed.status == "failed"
    assert failed.error is not None and failed.error.code == "M_UNKNOWN"
    assert failed.error.details is not None and failed.error.details.get("internalError")


def test_two_factor_and_cookies(client: BeeperDesktop):
    username = unique_username("sdk-2fa")
    session = client.bridges.login_sessions.create(BRIDGE, flow_id="password")
    step = session.current_step
    assert isinstance(step, CurrentStepUserInput)
    second = client.bridges.login_sessions.steps.submit(
        step.step_id, bridge_id=BRIDGE, login_session_id=session.login_session_id,
        type="user_input", fields={"username": username, "password": "pw"},
    )
    code_step = second.current_step
    assert isinstance(code_step, CurrentStepUserInput)
    assert [f.id for f in code_step.fields] == ["code"]
    done = client.bridges.login_sessions.steps.submit(
        code_step.step_id, bridge_id=BRIDGE, login_session_id=session.login_session_id,
        type="user_input", fields={"code": "123456"},
    )
    assert done.status == "complete"

    cookies = client.bridges.login_sessions.create(BRIDGE, flow_id="cookies")
    cookie_step = cookies.current_step
    assert isinstance(cookie_step, CurrentStepCookies)
    assert [(f.id, f.name, f.type) for f in cookie_step.fields] == [
        ("username", "username", "cookie"), ("password", "password", "cookie")]
    done = client.bridges.login_sessions.steps.submit(
        cookie_step.step_id, bridge_id=BRIDGE, login_session_id=cookies.login_session_id,
        type="cookies", fields={"username": unique_username("cookie"), "password": "p"}, source="api",
    )
    assert done.status == "complete"


def test_qr_refreshes_and_completes_when_scanned(client: BeeperDesktop):
    session = client.bridges.login_sessions.create(BRIDGE, flow_id="qr")
    step = session.current_step
    assert isinstance(step, CurrentStepDisplayAndWait)
    assert isinstance(step.display, CurrentStepDisplayAndWaitDisplayQRCode)
    first = step.display.data

    drive_fake("refresh")
    refreshed = client.bridges.login_sessions.steps.submit(
        step.step_id, bridge_id=BRIDGE, login_session_id=session.login_session_id, type="display_and_wait",
    )
    new_step = refreshed.current_step
    assert isinstance(new_step, CurrentStepDisplayAndWait)
    assert isinstance(new_step.display, CurrentStepDisplayAndWaitDisplayQRCode)
    assert new_step.display.data != first
    assert new_step.step_id != step.step_id

    drive_fake("scan")
    done = wait_for_status(client, BRIDGE, session.login_session_id, "complete", seconds=15)
    assert done.status == "complete", done
    assert done.login_id == "qr-user"


def test_cancel(client: BeeperDesktop):
    session = client.bridges.login_sessions.create(BRIDGE, flow_id="qr")
    cancelled = client.bridges.login_sessions.cancel(session.login_session_id, bridge_id=BRIDGE)
    assert cancelled.status == "cancelled"
    assert client.bridges.login_sessions.retrieve(session.login_session_id, bridge_id=BRIDGE).status == "cancelled"
