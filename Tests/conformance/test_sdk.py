"""Official-SDK conformance test for the Bridges server.

Drives a running server with Beeper's own Python SDK (`beeper-desktop-api` 6.0.0) in strict
response-validation mode, so every 200 body must parse into the SDK's pydantic models, and every
error must map onto the SDK's exception classes. Run it through `Tests/conformance/run.sh`, which
starts the server with the built-in demo bridges and sets:

    BEEPER_BASE_URL       e.g. http://127.0.0.1:PORT
    BEEPER_ACCESS_TOKEN   the server's bearer token (BRIDGES_ACCESS_TOKEN)

All tests share one server, so each one makes its own logins (unique usernames). Only
`test_qr_login_completes_when_its_url_is_opened` ever signs in on `demo-messenger` (a
single-account bridge), and only `test_cookies_login` on `demo-cookies`.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Dict, List, Optional
from urllib.parse import urlparse

import httpx
import pytest

from beeper_desktop_api import (
    AuthenticationError,
    BeeperDesktop,
    ConflictError,
    NotFoundError,
    UnprocessableEntityError,
)
from beeper_desktop_api.types import Account, LoginSession, ProvisioningCapabilities
from beeper_desktop_api.types.login_session import (
    CurrentStepComplete,
    CurrentStepCookies,
    CurrentStepDisplayAndWait,
    CurrentStepDisplayAndWaitDisplayQRCode,
    CurrentStepUserInput,
)
from beeper_desktop_api.types.shared import Error as ErrorBody

from conftest import BASE_URL, make_client, needs_server, server_port, unique_username, wait_for_terminal

pytestmark = needs_server

PASSWORD = "demo-password"
MESSENGER = "demo-messenger"
COOKIES = "demo-cookies"
WORKSPACE = "demo-workspace"
DEMO_BRIDGES = (PASSWORD, MESSENGER, COOKIES, WORKSPACE)

GOOD_PASSWORD = "correct horse battery staple"
TWO_FACTOR_CODE = "123456"


# --------------------------------------------------------------------------------------------
# Helpers (clients, fixtures and session polling are in conftest.py)
# --------------------------------------------------------------------------------------------


def user_input_step(session: LoginSession) -> CurrentStepUserInput:
    step = session.current_step
    assert isinstance(step, CurrentStepUserInput), f"expected a user_input step, got {session!r}"
    assert session.status == "waiting_for_input", session
    assert step.type == "user_input"
    assert step.step_id
    return step


def qr_step(session: LoginSession) -> CurrentStepDisplayAndWait:
    step = session.current_step
    assert isinstance(step, CurrentStepDisplayAndWait), f"expected a display_and_wait step, got {session!r}"
    assert session.status == "waiting_for_display", session
    assert step.step_id
    assert isinstance(step.display, CurrentStepDisplayAndWaitDisplayQRCode), step.display
    assert step.display.type == "qr"
    assert urlparse(step.display.data).scheme in ("http", "https"), step.display.data
    return step


def field_ids(step: CurrentStepUserInput) -> List[str]:
    return [f.id for f in step.fields]


def submit_user_input(client: BeeperDesktop, session: LoginSession, values: Dict[str, str]) -> LoginSession:
    step = user_input_step(session)
    return client.bridges.login_sessions.steps.submit(
        step.step_id,
        bridge_id=session.bridge_id,
        login_session_id=session.login_session_id,
        type="user_input",
        fields=values,
    )


def start_password_session(client: BeeperDesktop, **create_args: str) -> LoginSession:
    session = client.bridges.login_sessions.create(PASSWORD, **create_args)  # type: ignore[arg-type]
    assert session.bridge_id == PASSWORD
    assert session.login_session_id
    step = user_input_step(session)
    assert field_ids(step) == ["username", "password"]
    return session


def password_account_id(username: str) -> str:
    return f"{PASSWORD}_{username}"


def assert_password_login_complete(done: LoginSession, username: str) -> None:
    assert done.status == "complete", done
    assert done.bridge_id == PASSWORD
    assert done.error is None, done.error
    assert done.current_step is None or isinstance(done.current_step, CurrentStepComplete), done.current_step
    assert done.login_id == username
    login = done.login
    assert login is not None, done
    assert login.bridge_id == PASSWORD
    assert login.login_id == username
    assert login.status == "connected"
    assert login.remove_scopes == ["current-device", "all-devices"]
    assert login.account_ids == [password_account_id(username)]
    account = done.account
    assert account is not None, done
    assert account.account_id == password_account_id(username)
    assert account.status == "connected"
    assert account.bridge.id == PASSWORD
    assert account.bridge.provider == "platform-sdk"
    assert account.login_id == username
    assert account.user.id


def password_login(client: BeeperDesktop, username: str) -> LoginSession:
    session = start_password_session(client, flow_id="password")
    done = submit_user_input(client, session, {"username": username, "password": GOOD_PASSWORD})
    assert done.login_session_id == session.login_session_id
    assert_password_login_complete(done, username)
    return done


def assert_error_body(body: object, status: int) -> ErrorBody:
    assert isinstance(body, dict), f"{status} error body is not a JSON object: {body!r}"
    parsed = ErrorBody.model_validate(body)
    assert parsed.message
    assert parsed.code
    return parsed


def account_ids(accounts: List[Account]) -> List[str]:
    return [a.account_id for a in accounts]


# --------------------------------------------------------------------------------------------
# Info and authentication
# --------------------------------------------------------------------------------------------


def test_info_needs_no_token():
    # The SDK sends GET /v1/info with security={} (no Authorization header at all).
    info = make_client(access_token="not-the-token", max_retries=0).info.retrieve()
    assert info.server.port == server_port()
    assert info.app.name
    assert info.endpoints.spec
    r = httpx.get(f"{BASE_URL}/v1/info", timeout=10)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")


def test_bad_token_raises_authentication_error():
    bad = make_client(access_token="definitely-not-the-token", max_retries=0)
    with pytest.raises(AuthenticationError) as exc:
        bad.bridges.list()
    assert exc.value.status_code == 401
    assert assert_error_body(exc.value.body, 401).code == "unauthorized"
    with pytest.raises(AuthenticationError):
        bad.accounts.list()
    with pytest.raises(AuthenticationError):
        bad.bridges.login_sessions.create(PASSWORD)
    # No Authorization header at all.
    r = httpx.get(f"{BASE_URL}/v1/bridges", timeout=10)
    assert r.status_code == 401
    assert r.json()["code"] == "unauthorized"


# --------------------------------------------------------------------------------------------
# QR login on the single-account demo-messenger: kept early, and the only login made there.
# --------------------------------------------------------------------------------------------


def test_qr_login_completes_when_its_url_is_opened(client: BeeperDesktop, no_retry: BeeperDesktop):
    bridge = client.bridges.retrieve(MESSENGER)
    assert bridge.supports_multiple_accounts is False
    assert bridge.accounts == []
    assert bridge.status == "available"
    assert client.bridges.logins.list(MESSENGER).items == []

    session = client.bridges.login_sessions.create(MESSENGER, flow_id="qr")
    sid = session.login_session_id
    assert session.bridge_id == MESSENGER
    first = qr_step(session)

    # A display_and_wait submit blocks until the step changes; with
    # BRIDGES_DEMO_QR_REFRESH_SECONDS=2 that is the next QR refresh.
    started = time.monotonic()
    refreshed = no_retry.bridges.login_sessions.steps.submit(
        first.step_id, bridge_id=MESSENGER, login_session_id=sid, type="display_and_wait"
    )
    assert time.monotonic() - started < 25
    assert refreshed.login_session_id == sid
    second = qr_step(refreshed)
    assert second.step_id != first.step_id
    assert second.display.data != first.display.data  # type: ignore[union-attr]

    # Wait on the fresh step in the background, then "scan" it by opening its URL.
    outcome: Dict[str, object] = {}

    def wait_on_step() -> None:
        try:
            outcome["session"] = no_retry.bridges.login_sessions.steps.submit(
                second.step_id, bridge_id=MESSENGER, login_session_id=sid, type="display_and_wait"
            )
        except Exception as e:  # noqa: BLE001 - inspected below
            outcome["error"] = e

    waiter = threading.Thread(target=wait_on_step, daemon=True)
    waiter.start()
    time.sleep(0.3)
    qr_url = second.display.data  # type: ignore[union-attr]
    opened = httpx.get(qr_url, follow_redirects=True, timeout=10)  # unauthenticated, like a phone
    assert opened.status_code == 200, opened.text

    waiter.join(30)
    assert not waiter.is_alive(), "display_and_wait submit did not return"
    if "session" in outcome:
        blocked = outcome["session"]
        assert isinstance(blocked, LoginSession)
        assert blocked.status in ("complete", "waiting_for_display"), blocked
    else:
        # Only acceptable if the login finished before the submit reached the server.
        assert isinstance(outcome.get("error"), ConflictError), outcome

    done = wait_for_terminal(client, MESSENGER, sid)
    assert done.status == "complete", done
    assert done.error is None
    assert done.current_step is None or isinstance(done.current_step, CurrentStepComplete)
    assert done.login is not None and done.account is not None, done
    assert done.login.bridge_id == MESSENGER
    assert done.login.status == "connected"
    assert done.login_id == done.login.login_id
    assert done.account.bridge.id == MESSENGER
    assert done.account.status == "connected"
    assert done.account.account_id in (done.login.account_ids or [])

    bridge = client.bridges.retrieve(MESSENGER)
    assert bridge.status == "connected"
    assert account_ids(bridge.accounts) == [done.account.account_id]
    assert [l.login_id for l in client.bridges.logins.list(MESSENGER).items] == [done.login.login_id]

    # Single account: a NEW session (no loginID/accountID) is refused.
    with pytest.raises(ConflictError) as exc:
        no_retry.bridges.login_sessions.create(MESSENGER, flow_id="qr")
    assert_error_body(exc.value.body, 409)


# --------------------------------------------------------------------------------------------
# Bridges, capabilities, login flows
# --------------------------------------------------------------------------------------------


def test_list_bridges(client: BeeperDesktop):
    items = client.bridges.list().items
    by_id = {b.id: b for b in items}
    assert len(by_id) == len(items), "bridge IDs must be unique"
    for bridge_id in DEMO_BRIDGES:
        assert bridge_id in by_id, f"{bridge_id} missing from {sorted(by_id)}"
        bridge = by_id[bridge_id]
        assert bridge.provider == "platform-sdk"
        assert bridge.display_name
        assert bridge.type
        assert bridge.active_account_count >= 0
        for account in bridge.accounts:
            assert account.bridge.id == bridge_id
            assert account.bridge.provider == "platform-sdk"
        if bridge.supports_multiple_accounts:
            assert bridge.status == "available", bridge
        else:
            assert bridge.status == ("connected" if bridge.accounts else "available"), bridge
    assert by_id[PASSWORD].supports_multiple_accounts is True
    assert by_id[WORKSPACE].supports_multiple_accounts is True
    assert by_id[MESSENGER].supports_multiple_accounts is False


def test_retrieve_bridge(client: BeeperDesktop):
    listed = {b.id: b for b in client.bridges.list().items}[PASSWORD]
    bridge = client.bridges.retrieve(PASSWORD)
    assert bridge.id == PASSWORD
    assert bridge.provider == "platform-sdk"
    assert bridge.supports_multiple_accounts is True
    assert bridge.display_name == listed.display_name
    assert bridge.type == listed.type
    assert bridge.network == listed.network


def test_unknown_bridge_is_not_found(client: BeeperDesktop):
    with pytest.raises(NotFoundError) as exc:
        client.bridges.retrieve("no-such-bridge")
    assert exc.value.status_code == 404
    assert_error_body(exc.value.body, 404)
    with pytest.raises(NotFoundError):
        client.bridges.retrieve_capabilities("no-such-bridge")
    with pytest.raises(NotFoundError):
        client.bridges.login_flows.list("no-such-bridge")
    with pytest.raises(NotFoundError):
        client.bridges.logins.list("no-such-bridge")
    with pytest.raises(NotFoundError):
        client.bridges.login_sessions.create("no-such-bridge")
    # The SDK percent-encodes '/' inside a path parameter; it must not reach another route.
    with pytest.raises(NotFoundError):
        client.bridges.retrieve(f"{PASSWORD}/logins")


def test_unknown_login_session_and_account_are_not_found(client: BeeperDesktop):
    with pytest.raises(NotFoundError):
        client.bridges.logins.retrieve("no-such-login", bridge_id=PASSWORD)
    with pytest.raises(NotFoundError):
        client.bridges.logins.remove("no-such-login", bridge_id=PASSWORD, scope="all-devices")
    with pytest.raises(NotFoundError):
        client.bridges.login_sessions.retrieve("no-such-session", bridge_id=PASSWORD)
    with pytest.raises(NotFoundError):
        client.bridges.login_sessions.cancel("no-such-session", bridge_id=PASSWORD)
    with pytest.raises(NotFoundError):
        client.bridges.login_sessions.steps.submit(
            "no-such-step", bridge_id=PASSWORD, login_session_id="no-such-session", type="user_input", fields={}
        )
    with pytest.raises(NotFoundError) as exc:
        client.accounts.retrieve("no-such-account")
    assert_error_body(exc.value.body, 404)


def test_capabilities(client: BeeperDesktop, raw: httpx.Client):
    for bridge_id in DEMO_BRIDGES:
        caps = client.bridges.retrieve_capabilities(bridge_id)
        assert isinstance(caps, ProvisioningCapabilities)
        ri = caps.resolve_identifier
        for flag in ("any_phone", "contact_list", "create_dm", "lookup_email", "lookup_phone", "lookup_username", "search"):
            assert isinstance(getattr(ri, flag), bool), flag
        assert isinstance(caps.group_creation, dict)
        for group_type, group_caps in caps.group_creation.items():
            assert group_type
            assert isinstance(group_caps.type_description, str)
    # snake_case on the wire, unlike the rest of the API
    body = raw.get(f"/v1/bridges/{PASSWORD}/capabilities").json()
    assert "resolve_identifier" in body and "group_creation" in body


def test_login_flows(client: BeeperDesktop):
    expected = {
        PASSWORD: ["password"],
        MESSENGER: ["qr", "pairing-code", "emoji", "nothing"],
        COOKIES: ["cookies"],
        WORKSPACE: ["email"],
    }
    for bridge_id, flow_ids in expected.items():
        flows = client.bridges.login_flows.list(bridge_id).items
        assert [f.id for f in flows] == flow_ids, bridge_id


# --------------------------------------------------------------------------------------------
# demo-password: full, 2FA, failed, cancelled, default flow
# --------------------------------------------------------------------------------------------


def test_password_login(client: BeeperDesktop):
    username = unique_username()
    done = password_login(client, username)
    account_id = password_account_id(username)

    again = client.bridges.login_sessions.retrieve(done.login_session_id, bridge_id=PASSWORD)
    assert again.status == "complete"
    assert again.login_id == username

    login = client.bridges.logins.retrieve(username, bridge_id=PASSWORD)
    assert login.login_id == username
    assert login.bridge_id == PASSWORD
    assert login.status == "connected"
    assert login.remove_scopes == ["current-device", "all-devices"]
    assert login.account_ids == [account_id]
    assert username in [l.login_id for l in client.bridges.logins.list(PASSWORD).items]

    bridge = client.bridges.retrieve(PASSWORD)
    assert account_id in account_ids(bridge.accounts)
    assert bridge.status == "available"  # multi-account: still open for another account


def test_two_factor_login(client: BeeperDesktop):
    username = unique_username("u2fa")
    session = start_password_session(client, flow_id="password")
    first = user_input_step(session)
    second_session = submit_user_input(client, session, {"username": username, "password": GOOD_PASSWORD})
    second = user_input_step(second_session)
    assert second.step_id != first.step_id
    assert field_ids(second) == ["code"]
    done = submit_user_input(client, second_session, {"code": TWO_FACTOR_CODE})
    assert_password_login_complete(done, username)


def test_two_factor_wrong_code_fails(client: BeeperDesktop):
    username = unique_username("u2fa")
    session = start_password_session(client, flow_id="password")
    second_session = submit_user_input(client, session, {"username": username, "password": GOOD_PASSWORD})
    assert field_ids(user_input_step(second_session)) == ["code"]
    failed = submit_user_input(client, second_session, {"code": "000000"})
    assert failed.status == "failed", failed
    assert failed.error is not None and failed.error.code and failed.error.message
    assert failed.current_step is None
    with pytest.raises(NotFoundError):
        client.bridges.logins.retrieve(username, bridge_id=PASSWORD)


def test_wrong_password_fails(client: BeeperDesktop, no_retry: BeeperDesktop):
    username = unique_username()
    session = start_password_session(client, flow_id="password")
    failed = submit_user_input(client, session, {"username": username, "password": "wrong-password"})
    assert failed.status == "failed", failed
    assert failed.error is not None
    assert failed.error.code == "invalid_credentials"
    assert failed.error.message
    assert failed.current_step is None
    assert failed.login is None and failed.account is None

    again = client.bridges.login_sessions.retrieve(session.login_session_id, bridge_id=PASSWORD)
    assert again.status == "failed"
    assert again.error is not None and again.error.code == "invalid_credentials"

    with pytest.raises(NotFoundError):
        client.bridges.logins.retrieve(username, bridge_id=PASSWORD)
    assert password_account_id(username) not in account_ids(client.accounts.list())

    # A finished session takes no more steps.
    with pytest.raises(ConflictError) as exc:
        no_retry.bridges.login_sessions.steps.submit(
            f"step-{uuid.uuid4().hex}",
            bridge_id=PASSWORD,
            login_session_id=session.login_session_id,
            type="user_input",
            fields={"username": username, "password": GOOD_PASSWORD},
        )
    assert_error_body(exc.value.body, 409)


def test_cancelled_session(client: BeeperDesktop, no_retry: BeeperDesktop):
    session = start_password_session(client, flow_id="password")
    step = user_input_step(session)

    cancelled = client.bridges.login_sessions.cancel(session.login_session_id, bridge_id=PASSWORD)
    assert cancelled.status == "cancelled"
    assert cancelled.bridge_id == PASSWORD
    assert cancelled.login_session_id == session.login_session_id

    again = client.bridges.login_sessions.retrieve(session.login_session_id, bridge_id=PASSWORD)
    assert again.status == "cancelled"
    assert again.current_step is None

    with pytest.raises(ConflictError) as exc:
        no_retry.bridges.login_sessions.steps.submit(
            step.step_id,
            bridge_id=PASSWORD,
            login_session_id=session.login_session_id,
            type="user_input",
            fields={"username": unique_username(), "password": GOOD_PASSWORD},
        )
    assert exc.value.status_code == 409
    assert_error_body(exc.value.body, 409)


def test_create_session_without_arguments_uses_first_flow(client: BeeperDesktop, raw: httpx.Client):
    flows = client.bridges.login_flows.list(PASSWORD).items
    assert flows and flows[0].id == "password"

    # The SDK sends the JSON body `{}`.
    session = start_password_session(client)
    assert field_ids(user_input_step(session)) == ["username", "password"]

    # curl-style: no body and no Content-Type at all.
    r = raw.post(f"/v1/bridges/{PASSWORD}/login-sessions")
    assert r.status_code == 200, r.text
    bare = LoginSession.model_validate(r.json())
    assert bare.login_session_id != session.login_session_id
    assert field_ids(user_input_step(bare)) == ["username", "password"]

    # The session completes normally.
    username = unique_username()
    assert_password_login_complete(
        submit_user_input(client, session, {"username": username, "password": GOOD_PASSWORD}), username
    )
    assert client.bridges.login_sessions.cancel(bare.login_session_id, bridge_id=PASSWORD).status == "cancelled"


# --------------------------------------------------------------------------------------------
# Step conflicts and validation
# --------------------------------------------------------------------------------------------


def test_stale_step_and_wrong_type_conflict(client: BeeperDesktop, no_retry: BeeperDesktop):
    session = start_password_session(client, flow_id="password")
    step = user_input_step(session)
    username = unique_username()
    values = {"username": username, "password": GOOD_PASSWORD}

    with pytest.raises(ConflictError) as exc:
        no_retry.bridges.login_sessions.steps.submit(
            f"stale-{uuid.uuid4().hex}",
            bridge_id=PASSWORD,
            login_session_id=session.login_session_id,
            type="user_input",
            fields=values,
        )
    assert exc.value.status_code == 409
    assert_error_body(exc.value.body, 409)

    with pytest.raises(ConflictError):
        no_retry.bridges.login_sessions.steps.submit(
            step.step_id,
            bridge_id=PASSWORD,
            login_session_id=session.login_session_id,
            type="cookies",
            fields=values,
            source="api",
        )

    # Neither attempt changed the session.
    still = client.bridges.login_sessions.retrieve(session.login_session_id, bridge_id=PASSWORD)
    assert user_input_step(still).step_id == step.step_id
    done = submit_user_input(client, still, values)
    assert_password_login_complete(done, username)

    with pytest.raises(ConflictError):
        no_retry.bridges.login_sessions.steps.submit(
            f"stale-{uuid.uuid4().hex}",
            bridge_id=PASSWORD,
            login_session_id=session.login_session_id,
            type="user_input",
            fields=values,
        )


def test_resubmitting_an_applied_step_returns_current_state(client: BeeperDesktop):
    # openapi.yaml: "Re-sending a step that was already applied returns the session's current
    # state" -- what makes the SDK's automatic POST retries harmless.
    username = unique_username("u2fa")
    session = start_password_session(client, flow_id="password")
    first = user_input_step(session)
    values = {"username": username, "password": GOOD_PASSWORD}
    second_session = submit_user_input(client, session, values)
    second = user_input_step(second_session)

    resent = client.bridges.login_sessions.steps.submit(
        first.step_id, bridge_id=PASSWORD, login_session_id=session.login_session_id, type="user_input", fields=values
    )
    assert resent.status == "waiting_for_input"
    assert user_input_step(resent).step_id == second.step_id

    done = submit_user_input(client, second_session, {"code": TWO_FACTOR_CODE})
    assert_password_login_complete(done, username)
    resent = client.bridges.login_sessions.steps.submit(
        second.step_id,
        bridge_id=PASSWORD,
        login_session_id=session.login_session_id,
        type="user_input",
        fields={"code": TWO_FACTOR_CODE},
    )
    assert resent.status == "complete"
    assert [l.login_id for l in client.bridges.logins.list(PASSWORD).items].count(username) == 1


def test_validation_errors_are_422_with_issues(client: BeeperDesktop, no_retry: BeeperDesktop):
    username = unique_username()
    password_login(client, username)

    with pytest.raises(UnprocessableEntityError) as exc:
        no_retry.bridges.logins.remove(username, bridge_id=PASSWORD, scope="everywhere")  # type: ignore[arg-type]
    assert exc.value.status_code == 422
    assert_error_body(exc.value.body, 422)
    issues = exc.value.body["details"]["issues"]  # type: ignore[index]
    assert issues, exc.value.body
    for issue in issues:
        assert isinstance(issue["code"], str) and issue["code"]
        assert isinstance(issue["message"], str) and issue["message"]
        assert isinstance(issue["path"], list)
    assert any("scope" in issue["path"] for issue in issues), issues
    # Nothing was removed.
    assert client.bridges.logins.retrieve(username, bridge_id=PASSWORD).status == "connected"

    session = start_password_session(client, flow_id="password")
    with pytest.raises(UnprocessableEntityError) as exc:
        no_retry.bridges.login_sessions.steps.submit(
            user_input_step(session).step_id,
            bridge_id=PASSWORD,
            login_session_id=session.login_session_id,
            type="teleport",  # type: ignore[arg-type]
        )
    issues = exc.value.body["details"]["issues"]  # type: ignore[index]
    assert any("type" in issue["path"] for issue in issues), issues
    client.bridges.login_sessions.cancel(session.login_session_id, bridge_id=PASSWORD)


# --------------------------------------------------------------------------------------------
# Reconnect and removal
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["login_id", "account_id"])
def test_reconnect(client: BeeperDesktop, raw: httpx.Client, target: str):
    username = unique_username()
    password_login(client, username)
    account_id = password_account_id(username)

    r = raw.post(f"/demo/accounts/{account_id}/reconnect-required")
    assert r.status_code == 200, r.text
    assert client.accounts.retrieve(account_id).status == "reconnect_required"
    assert client.bridges.logins.retrieve(username, bridge_id=PASSWORD).status == "needs_login"
    logins_before = sorted(l.login_id for l in client.bridges.logins.list(PASSWORD).items)

    if target == "login_id":
        session = start_password_session(client, login_id=username)
        assert session.login_id in (None, username)
    else:
        session = start_password_session(client, account_id=account_id)
        assert session.account_id in (None, account_id)

    done = submit_user_input(client, session, {"username": username, "password": GOOD_PASSWORD})
    assert_password_login_complete(done, username)

    logins_after = sorted(l.login_id for l in client.bridges.logins.list(PASSWORD).items)
    assert logins_after == logins_before, "a reconnect must not add a login"
    assert logins_after.count(username) == 1
    assert client.bridges.logins.retrieve(username, bridge_id=PASSWORD).status == "connected"
    assert client.accounts.retrieve(account_id).status == "connected"


@pytest.mark.parametrize("scope", ["all-devices", "current-device"])
def test_remove_login(client: BeeperDesktop, scope: str):
    username = unique_username()
    password_login(client, username)
    account_id = password_account_id(username)
    assert account_id in account_ids(client.accounts.list())

    removed = client.bridges.logins.remove(username, bridge_id=PASSWORD, scope=scope)  # type: ignore[arg-type]
    assert removed.status == "removed"
    assert removed.scope == scope
    assert removed.bridge_id == PASSWORD
    assert removed.login_id == username
    assert removed.affected_account_ids == [account_id]

    with pytest.raises(NotFoundError):
        client.bridges.logins.retrieve(username, bridge_id=PASSWORD)
    with pytest.raises(NotFoundError):
        client.accounts.retrieve(account_id)
    assert account_id not in account_ids(client.accounts.list())
    assert account_id not in account_ids(client.bridges.retrieve(PASSWORD).accounts)
    assert username not in [l.login_id for l in client.bridges.logins.list(PASSWORD).items]
    # The SDKs re-send a POST whose answer they missed: the repeat reports the same removal.
    again = client.bridges.logins.remove(username, bridge_id=PASSWORD, scope=scope)  # type: ignore[arg-type]
    assert again.status == "removed" and again.affected_account_ids == [account_id]
    with pytest.raises(NotFoundError):
        client.bridges.logins.remove(unique_username(), bridge_id=PASSWORD, scope="all-devices")


# --------------------------------------------------------------------------------------------
# Other bridges and accounts
# --------------------------------------------------------------------------------------------


def test_multi_account_login(client: BeeperDesktop):
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    session = client.bridges.login_sessions.create(WORKSPACE, flow_id="email")
    step = user_input_step(session)
    assert field_ids(step) == ["email", "password"]
    done = submit_user_input(client, session, {"email": email, "password": GOOD_PASSWORD})
    assert done.status == "complete", done
    login = done.login
    assert login is not None
    assert login.bridge_id == WORKSPACE
    assert login.status == "connected"
    assert done.login_id == login.login_id
    ids = login.account_ids or []
    assert len(ids) == 3 and len(set(ids)) == 3, ids
    if done.account is not None:
        assert done.account.account_id in ids

    everywhere = {a.account_id: a for a in client.accounts.list()}
    for account_id in ids:
        account = everywhere[account_id]
        assert account.bridge.id == WORKSPACE
        assert account.login_id == login.login_id
        assert account.status == "connected"
    assert set(ids) <= set(account_ids(client.bridges.retrieve(WORKSPACE).accounts))

    fetched = client.bridges.logins.retrieve(login.login_id, bridge_id=WORKSPACE)
    assert sorted(fetched.account_ids or []) == sorted(ids)
    assert [l.login_id for l in client.bridges.logins.list(WORKSPACE).items].count(login.login_id) == 1


def test_cookies_login(client: BeeperDesktop):
    session = client.bridges.login_sessions.create(COOKIES, flow_id="cookies")
    assert session.status == "waiting_for_cookies", session
    step = session.current_step
    assert isinstance(step, CurrentStepCookies), session
    assert step.step_id
    assert {f.id: f.type for f in step.fields} == {"session": "cookie", "csrf": "header", "token": "local_storage"}
    page = urlparse(step.url)
    assert page.scheme == "http" and page.port == server_port(), step.url
    assert page.path.startswith("/demo/"), step.url
    sign_in = httpx.get(step.url, timeout=10)  # a /demo/ page: no token needed
    assert sign_in.status_code == 200

    values = {f.id: uuid.uuid4().hex for f in step.fields}
    done = client.bridges.login_sessions.steps.submit(
        step.step_id,
        bridge_id=COOKIES,
        login_session_id=session.login_session_id,
        type="cookies",
        fields=values,
        source="api",
    )
    assert done.status == "complete", done
    assert done.error is None
    assert done.login is not None and done.login.status == "connected"
    assert done.account is not None
    assert done.account.bridge.id == COOKIES
    assert done.account.status == "connected"
    assert done.account.account_id in account_ids(client.accounts.list())


def test_list_and_retrieve_accounts(client: BeeperDesktop, raw: httpx.Client):
    username = unique_username()
    password_login(client, username)
    account_id = password_account_id(username)

    wire = raw.get("/v1/accounts").json()
    assert isinstance(wire, list), "GET /v1/accounts returns a bare array"

    accounts = client.accounts.list()
    matching = [a for a in accounts if a.account_id == account_id]
    assert len(matching) == 1
    listed = matching[0]
    assert listed.bridge.id == PASSWORD
    assert listed.bridge.provider == "platform-sdk"
    assert listed.bridge.type
    assert listed.status == "connected"
    assert listed.login_id == username
    assert listed.user.id

    fetched = client.accounts.retrieve(account_id)
    assert fetched.account_id == account_id
    assert fetched.model_dump() == listed.model_dump()
