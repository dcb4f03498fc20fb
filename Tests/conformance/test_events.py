"""Live events on `/v1/ws`, checked with the `websockets` package and Beeper's own Python SDK.

Every event body must validate against the SDK's own models the way the SDK validates a response
in strict mode (`_strict_response_validation=True` calls `beeper_desktop_api._models.validate_type`,
which is pydantic's `model_validate` for a model): `login-session.updated` as a `LoginSession`,
`bridge.updated` as a `Bridge`, `login.upserted` as a `BridgeLogin`, `account.updated` as an
`Account`. The logins themselves are driven with the SDK in strict mode.

All waits are event-driven: a receive returns as soon as a message arrives and only fails after a
generous bound, so nothing here asserts on timing.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Dict, Iterator, List

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from beeper_desktop_api import BeeperDesktop
from beeper_desktop_api._models import validate_type
from beeper_desktop_api.types import Account, Bridge, BridgeLogin, LoginSession
from beeper_desktop_api.types.login_session import CurrentStepUserInput

from conftest import BASE_URL, TOKEN, needs_server, unique_username

pytestmark = needs_server

PASSWORD = "demo-password"
GOOD_PASSWORD = "correct horse battery staple"
TWO_FACTOR_CODE = "123456"
# How long one message may take to arrive before a test fails: generous, never a timing assertion.
RECEIVE_SECONDS = 20.0

WS_URL = BASE_URL.replace("http://", "ws://", 1).replace("https://", "wss://", 1) + "/v1/ws"

# The SDK model each event's `data` must validate against.
EVENT_MODELS: Dict[str, Any] = {
    "login-session.updated": LoginSession,
    "bridge.updated": Bridge,
    "login.upserted": BridgeLogin,
    "account.updated": Account,
}


class Events:
    """One `/v1/ws` connection: receives messages as parsed JSON and validates every event."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.last_seq = 0

    def next(self, seconds: float = RECEIVE_SECONDS) -> Dict[str, Any]:
        try:
            frame = self.ws.recv(timeout=seconds)
        except TimeoutError:
            pytest.fail(f"no message on /v1/ws within {seconds} s")
        assert isinstance(frame, str), f"expected a text frame, got {frame!r}"
        message = json.loads(frame)
        assert isinstance(message, dict), message
        if "seq" in message:
            self.check_event(message)
        return message

    def check_event(self, message: Dict[str, Any]) -> None:
        # seq counts this connection's events from 1, with no gaps.
        assert message["seq"] == self.last_seq + 1, (self.last_seq, message)
        self.last_seq = message["seq"]
        assert isinstance(message["bridgeID"], str) and message["bridgeID"], message
        datetime.fromisoformat(message["ts"].replace("Z", "+00:00"))
        kind = message["type"]
        data = message["data"]
        if kind in EVENT_MODELS:
            model = validate_type(type_=EVENT_MODELS[kind], value=data)
            message["model"] = model
            if kind == "bridge.updated":
                owner = model.id
            elif kind == "account.updated":
                owner = model.bridge.id
            else:
                owner = model.bridge_id
            assert owner == message["bridgeID"], message
        elif kind == "login.deleted":
            assert set(data) >= {"bridgeID", "loginID", "accountIDs"}, data
            assert data["bridgeID"] == message["bridgeID"], message
            assert isinstance(data["loginID"], str) and isinstance(data["accountIDs"], list), data
        else:
            pytest.fail(f"unknown event type {kind!r}: {message!r}")

    def expect(self, kind: str) -> Dict[str, Any]:
        message = self.next()
        assert message["type"] == kind, f"expected {kind}, got {message!r}"
        return message

    def send(self, message: Dict[str, Any]) -> None:
        self.ws.send(json.dumps(message))

    def subscribe(self, request_id: str = "r1", **selection: List[str]) -> Dict[str, Any]:
        self.send({"type": "subscriptions.set", "requestID": request_id, **selection})
        updated = self.expect("subscriptions.updated")
        assert updated["requestID"] == request_id, updated
        assert updated["bridgeIDs"] == selection.get("bridgeIDs", []), updated
        assert updated["loginSessionIDs"] == selection.get("loginSessionIDs", []), updated
        return updated


def expect_ready(events: Events) -> None:
    ready = events.expect("ready")
    assert ready["version"] == 1, ready
    assert ready["bridgeIDs"] == [] and ready["loginSessionIDs"] == [], ready


@pytest.fixture
def events() -> Iterator[Events]:
    with connect(WS_URL, additional_headers={"Authorization": f"Bearer {TOKEN}"}, open_timeout=RECEIVE_SECONDS) as ws:
        e = Events(ws)
        expect_ready(e)
        yield e


def mine(message: Dict[str, Any], session_id: str, username: str) -> bool:
    """Whether an event is about this test's login. The server is shared: an older session of
    another test may still expire on the same bridge while this one runs."""
    data = message["data"]
    kind = message["type"]
    if kind == "login-session.updated":
        return data["loginSessionID"] == session_id
    if kind in ("login.upserted", "login.deleted"):
        return data["loginID"] == username
    if kind == "account.updated":
        return data["accountID"] == f"{PASSWORD}_{username}"
    return True  # bridge.updated: the bridge itself


def next_mine(events: Events, session_id: str, username: str) -> Dict[str, Any]:
    while True:
        message = events.next()
        assert "seq" in message, f"expected an event, got {message!r}"
        if mine(message, session_id, username):
            return message


def user_input_step(session: LoginSession) -> CurrentStepUserInput:
    step = session.current_step
    assert isinstance(step, CurrentStepUserInput), session
    return step


def submit(client: BeeperDesktop, session: LoginSession, fields: Dict[str, str]) -> LoginSession:
    return client.bridges.login_sessions.steps.submit(
        user_input_step(session).step_id,
        bridge_id=session.bridge_id, login_session_id=session.login_session_id, type="user_input", fields=fields,
    )


def dumped(model: Any) -> Dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True, exclude_unset=True)


def assert_login_announced(
    events: Events, client: BeeperDesktop, raw: httpx.Client, session_id: str, username: str,
    steps: List[LoginSession], done: LoginSession,
) -> None:
    """After the session events: the session's own steps in order (each equal to what the HTTP
    call answered), then login.upserted, account.updated and bridge.updated, each equal to a GET."""
    for expected in steps + [done]:
        message = next_mine(events, session_id, username)
        assert message["type"] == "login-session.updated", message
        assert message["bridgeID"] == PASSWORD
        assert dumped(message["model"]) == dumped(expected), (message, expected)

    login = next_mine(events, session_id, username)
    assert login["type"] == "login.upserted", login
    assert done.login is not None
    assert login["model"].login_id == username
    assert dumped(login["model"]) == dumped(done.login)
    assert login["data"] == raw.get(f"/v1/bridges/{PASSWORD}/logins/{username}").json()

    account = next_mine(events, session_id, username)
    assert account["type"] == "account.updated", account
    assert done.account is not None
    assert account["model"].account_id == f"{PASSWORD}_{username}"
    assert account["model"].status == "connected"
    assert dumped(account["model"]) == dumped(done.account)
    assert account["data"] == raw.get(f"/v1/accounts/{PASSWORD}_{username}").json()

    bridge = next_mine(events, session_id, username)
    assert bridge["type"] == "bridge.updated", bridge
    assert bridge["model"].id == PASSWORD
    assert f"{PASSWORD}_{username}" in [a.account_id for a in bridge["model"].accounts]
    # Sent after the change is visible to a GET; nothing happened on this bridge since.
    assert bridge["data"] == raw.get(f"/v1/bridges/{PASSWORD}").json()
    client.bridges.retrieve(PASSWORD)  # and the SDK reads the same bridge strictly


# --------------------------------------------------------------------------------------------
# Logins seen through events
# --------------------------------------------------------------------------------------------


def test_password_login_events_validate_and_arrive_in_order(events: Events, client: BeeperDesktop, raw: httpx.Client):
    events.subscribe(bridgeIDs=["*"])
    username = unique_username("ev")
    session = client.bridges.login_sessions.create(PASSWORD, flow_id="password")
    done = submit(client, session, {"username": username, "password": GOOD_PASSWORD})
    assert done.status == "complete", done
    assert_login_announced(events, client, raw, session.login_session_id, username, [session], done)


def test_two_factor_login_announces_each_step(events: Events, client: BeeperDesktop, raw: httpx.Client):
    events.subscribe(bridgeIDs=[PASSWORD])
    username = unique_username("ev-2fa")
    session = client.bridges.login_sessions.create(PASSWORD, flow_id="password")
    code_step = submit(client, session, {"username": username, "password": GOOD_PASSWORD})
    assert code_step.status == "waiting_for_input", code_step
    assert user_input_step(code_step).step_id != user_input_step(session).step_id
    code_field = user_input_step(code_step).fields[0].id
    done = submit(client, code_step, {code_field: TWO_FACTOR_CODE})
    assert done.status == "complete", done
    assert_login_announced(events, client, raw, session.login_session_id, username, [session, code_step], done)


def test_failed_and_removed_logins_are_announced(events: Events, client: BeeperDesktop, raw: httpx.Client):
    events.subscribe(bridgeIDs=[PASSWORD])
    # A wrong password ends the session failed: its last event says so, with the error.
    session = client.bridges.login_sessions.create(PASSWORD, flow_id="password")
    failed = submit(client, session, {"username": unique_username("ev-bad"), "password": "wrong-password"})
    assert failed.status == "failed", failed
    for expected in (session, failed):
        message = next_mine(events, session.login_session_id, "")
        assert message["type"] == "login-session.updated", message
        assert dumped(message["model"]) == dumped(expected)
    assert message["model"].error is not None

    username = unique_username("ev-rm")
    session = client.bridges.login_sessions.create(PASSWORD, flow_id="password")
    done = submit(client, session, {"username": username, "password": GOOD_PASSWORD})
    assert_login_announced(events, client, raw, session.login_session_id, username, [session], done)
    client.bridges.logins.remove(username, bridge_id=PASSWORD, scope="all-devices")
    deleted = next_mine(events, session.login_session_id, username)
    assert deleted["type"] == "login.deleted", deleted
    assert deleted["data"] == {"bridgeID": PASSWORD, "loginID": username, "accountIDs": [f"{PASSWORD}_{username}"]}
    bridge = next_mine(events, session.login_session_id, username)
    assert bridge["type"] == "bridge.updated", bridge
    assert f"{PASSWORD}_{username}" not in [a.account_id for a in bridge["model"].accounts]


def test_login_session_subscription_follows_one_session(events: Events, client: BeeperDesktop):
    # Subscribed to nothing: a login on the bridge sends nothing; then to one session only.
    events.subscribe(bridgeIDs=[])
    session = client.bridges.login_sessions.create(PASSWORD, flow_id="password")
    events.subscribe(request_id="r2", bridgeIDs=[], loginSessionIDs=[session.login_session_id])
    username = unique_username("ev-one")
    done = submit(client, session, {"username": username, "password": GOOD_PASSWORD})
    message = events.next()
    assert message["type"] == "login-session.updated", message
    assert message["data"]["loginSessionID"] == session.login_session_id
    assert dumped(message["model"]) == dumped(done)
    # Nothing else arrives for this selection: a pause-and-ask round trip proves it in order.
    events.subscribe(request_id="r3", bridgeIDs=[])


# --------------------------------------------------------------------------------------------
# Authentication, control messages, the upgrade itself
# --------------------------------------------------------------------------------------------


def refused_upgrade(token: str) -> Any:
    with pytest.raises(InvalidStatus) as exc:
        with connect(WS_URL, additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=RECEIVE_SECONDS):
            pass
    return exc.value.response


def test_bad_token_gets_no_upgrade():
    response = refused_upgrade("not-the-token")
    assert response.status_code != 101
    assert response.headers.get("Upgrade") is None


def test_bad_token_is_refused_before_the_upgrade():
    # The WebSocket library answers every refused upgrade with an empty 400 (README says so); what
    # matters is that no socket is opened for a bad token. Without the upgrade headers the same
    # request gets the API's 401.
    response = refused_upgrade("not-the-token")
    assert response.status_code == 400, response
    assert "upgrade" not in (response.headers.get("Connection") or "").lower()
    assert response.headers.get("Upgrade") is None
    plain = httpx.get(f"{BASE_URL}/v1/ws", headers={"Authorization": "Bearer not-the-token"}, timeout=10)
    assert plain.status_code == 401
    assert plain.json()["code"] == "unauthorized"


def test_token_as_first_message(client: BeeperDesktop):
    with connect(WS_URL, open_timeout=RECEIVE_SECONDS) as ws:
        events = Events(ws)
        events.send({"type": "authenticate", "token": TOKEN})
        expect_ready(events)
        events.subscribe(bridgeIDs=[PASSWORD])
        session = client.bridges.login_sessions.create(PASSWORD, flow_id="password")
        message = events.expect("login-session.updated")
        assert message["data"]["loginSessionID"] == session.login_session_id
        client.bridges.login_sessions.cancel(session.login_session_id, bridge_id=PASSWORD)


def test_wrong_token_as_first_message_closes():
    with connect(WS_URL, open_timeout=RECEIVE_SECONDS) as ws:
        ws.send(json.dumps({"type": "authenticate", "token": "not-the-token"}))
        with pytest.raises(ConnectionClosed) as exc:
            ws.recv(timeout=RECEIVE_SECONDS)
        assert exc.value.rcvd is not None and exc.value.rcvd.code == 4401, exc.value


def test_chat_subscriptions_get_an_error_and_the_connection_stays_open(events: Events):
    events.send({"type": "subscriptions.set", "requestID": "chats", "chatIDs": ["*"]})
    error = events.expect("error")
    assert error["requestID"] == "chats", error
    assert error["code"] and error["message"], error
    # Still open, and still taking commands.
    events.subscribe(request_id="after", bridgeIDs=["*"])
    events.send({"type": "no.such.command", "requestID": "x"})
    unknown = events.expect("error")
    assert unknown["requestID"] == "x" and unknown["code"], unknown
    events.send({"type": "subscriptions.set", "requestID": "mixed", "bridgeIDs": ["*", PASSWORD]})
    mixed = events.expect("error")
    assert mixed["requestID"] == "mixed", mixed
    events.ws.send("not json")
    assert events.expect("error")["code"], "an error for a frame that is not JSON"
    events.subscribe(request_id="last", bridgeIDs=[PASSWORD])


def test_plain_get_without_upgrade_is_426():
    r = httpx.get(f"{BASE_URL}/v1/ws", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert r.status_code == 426, (r.status_code, r.text)
    body = r.json()
    assert body["code"] and body["message"], body


def test_plain_get_without_token_is_refused():
    r = httpx.get(f"{BASE_URL}/v1/ws", timeout=30)
    assert r.status_code in (401, 426), (r.status_code, r.text)
