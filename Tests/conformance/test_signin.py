"""Signing in with a Matrix account (`/_bridges/v1/signin`, `signout`, `whoami`), against a real
Synapse, through the HTTP API, the official SDK and the `bridges` command line.

The Synapse (Tests/synapse/synapse.py) and the Bridges servers configured for it start only when
these tests run, once per session. The Bridges server `run.sh` started has no homeserver, so it
must answer `signin_not_configured`. Where Synapse cannot be installed the tests that need it are
skipped, saying why; never in CI (`CI` set), where that fails them instead.

Every test makes its own Matrix users (`alice-…`, allowed; `mallory-…`, not allowed), whose
registration sessions are logged out at once, so a user's device list shows exactly what Bridges
left behind.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import httpx
import pexpect
import pytest

from conftest import BASE_URL, CLI, TOKEN, make_client, needs_cli

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "synapse"))
import synapse  # noqa: E402  (Tests/synapse/synapse.py)

pytestmark = needs_cli

SERVER_NAME = "localhost"
# What `users.allow` lets in; `mallory-…` and everyone else stay out.
ALLOW = [f"@alice-*:{SERVER_NAME}", f"@cli-*:{SERVER_NAME}"]
# Every password and Matrix token used here, to look for in logs and files at the end.
SECRETS: List[str] = []


# --- Servers --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def homeserver() -> Iterator[synapse.Synapse]:
    try:
        hs = synapse.start(server_name=SERVER_NAME)
    except synapse.SynapseUnavailable as error:
        if os.environ.get("CI"):
            pytest.fail(f"Synapse could not be installed, and CI must run the sign-in tests: {error}")
        pytest.skip(f"Synapse could not be installed here, so the sign-in tests cannot run: {error}")
    yield hs
    hs.stop()


class Bridges:
    """A `bridges serve` of its own, with its own configuration and data folder."""

    def __init__(self, directory: Path, config: str) -> None:
        self.directory = directory
        self.data_dir = directory / "data"
        self.log_path = directory / "server.log"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        (directory / "bridges.yaml").write_text(config)
        # Only the file configures it: run.sh's BRIDGES_* and BEEPER_* variables are for the other server.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BRIDGES_", "BEEPER_"))}
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [CLI, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--data-dir", str(self.data_dir),
                 "--config", str(directory / "bridges.yaml")],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"bridges serve exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/v1/info", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"bridges serve did not answer within 60 s:\n{self.log()}")
            time.sleep(0.1)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def config_for(hs: synapse.Synapse, allow: Optional[List[str]]) -> str:
    lines = ["matrix:", f"  homeserver: \"{hs.base_url}\""]
    if allow is not None:
        lines += ["users:", "  allow:"] + [f"    - \"{pattern}\"" for pattern in allow]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="session")
def bridges(homeserver: synapse.Synapse, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bridges]:
    server = Bridges(tmp_path_factory.mktemp("signin-bridges"), config_for(homeserver, ALLOW))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def open_bridges(homeserver: synapse.Synapse, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bridges]:
    """`users.allow` not set: every user the homeserver confirms may sign in."""
    server = Bridges(tmp_path_factory.mktemp("signin-open"), config_for(homeserver, None))
    yield server
    server.stop()


# --- Helpers --------------------------------------------------------------------------------


def new_user(hs: synapse.Synapse, prefix: str) -> Tuple[str, str]:
    """A fresh user with no device: the session registration opens is logged out at once."""
    password = f"pw-{secrets.token_hex(12)}"
    SECRETS.append(password)
    registered = hs.register(f"{prefix}-{secrets.token_hex(4)}", password)
    hs.logout(registered.access_token)
    assert hs.devices(registered.user_id) == []
    return registered.user_id, password


def matrix_token(hs: synapse.Synapse, user_id: str, password: str) -> str:
    token = hs.login(user_id, password, device_name="the user's own client").access_token
    SECRETS.append(token)
    return token


def signin(base_url: str, **body: str) -> httpx.Response:
    return httpx.post(f"{base_url}/_bridges/v1/signin", json=body, timeout=30)


def whoami(base_url: str, token: str) -> httpx.Response:
    return httpx.get(f"{base_url}/_bridges/v1/whoami", headers={"Authorization": f"Bearer {token}"}, timeout=30)


def assert_error(response: httpx.Response, status: int) -> Dict[str, object]:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body.get("message"), str) and body["message"], body
    assert isinstance(body.get("code"), str) and body["code"], body
    return body


def matrix_whoami(hs: synapse.Synapse, token: str) -> int:
    status, _ = synapse.request("GET", f"{hs.base_url}/_matrix/client/v3/account/whoami", token=token)
    return status


# --- Without a homeserver ---------------------------------------------------------------------


def test_a_server_without_a_homeserver_says_sign_in_is_not_configured():
    body = assert_error(signin(BASE_URL, userID="@alice:example.com", password="pw"), 404)
    assert body["code"] == "signin_not_configured"
    me = whoami(BASE_URL, TOKEN)
    assert me.status_code == 200, me.text
    assert me.json()["matrixSignIn"] is False


def test_the_cli_says_the_server_offers_no_sign_in(tmp_path: Path):
    result = run_cli(tmp_path, "signin", "--server", BASE_URL, "--user", "@alice:example.com", "--password-stdin",
                     input="pw\n")
    assert result.returncode == 1, result.stderr
    assert "does not offer signing in" in result.stderr


# --- The API --------------------------------------------------------------------------------


def test_password_sign_in_gives_a_token_that_acts_as_the_user(homeserver: synapse.Synapse, bridges: Bridges):
    user_id, password = new_user(homeserver, "alice")
    response = signin(bridges.base_url, userID=user_id, password=password, tokenName="conformance")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["userID"] == user_id
    assert body["accessToken"] and body["tokenID"]

    me = whoami(bridges.base_url, body["accessToken"])
    assert me.status_code == 200, me.text
    assert me.json()["userID"] == user_id
    assert me.json()["tokenID"] == body["tokenID"]
    assert me.json()["matrixSignIn"] is True

    sdk = make_client(access_token=body["accessToken"], base_url=bridges.base_url)
    try:
        assert "demo-password" in [bridge.id for bridge in sdk.bridges.list().items]
    finally:
        sdk.close()


def test_password_sign_in_leaves_no_matrix_session(homeserver: synapse.Synapse, bridges: Bridges):
    user_id, password = new_user(homeserver, "alice")
    assert signin(bridges.base_url, userID=user_id, password=password).status_code == 200
    assert homeserver.devices(user_id) == []


def test_matrix_access_token_sign_in_keeps_the_users_session(homeserver: synapse.Synapse, bridges: Bridges):
    user_id, password = new_user(homeserver, "alice")
    token = matrix_token(homeserver, user_id, password)
    response = signin(bridges.base_url, matrixAccessToken=token)
    assert response.status_code == 200, response.text
    assert response.json()["userID"] == user_id
    assert whoami(bridges.base_url, response.json()["accessToken"]).json()["userID"] == user_id
    # The session is the user's own: Bridges must not have logged it out.
    assert matrix_whoami(homeserver, token) == 200
    assert len(homeserver.devices(user_id)) == 1
    homeserver.logout(token)


def test_a_wrong_password_is_401(homeserver: synapse.Synapse, bridges: Bridges):
    user_id, _ = new_user(homeserver, "alice")
    wrong = f"wrong-{secrets.token_hex(8)}"
    SECRETS.append(wrong)
    body = assert_error(signin(bridges.base_url, userID=user_id, password=wrong), 401)
    assert wrong not in json.dumps(body)
    assert homeserver.devices(user_id) == []


def test_an_unknown_user_is_401(bridges: Bridges):
    assert_error(signin(bridges.base_url, userID=f"@alice-nobody-{secrets.token_hex(4)}:{SERVER_NAME}", password="pw"), 401)


def test_an_invalid_matrix_token_is_401(bridges: Bridges):
    assert_error(signin(bridges.base_url, matrixAccessToken=f"syt_{secrets.token_hex(16)}"), 401)


def test_a_user_outside_users_allow_is_403_and_told_why(homeserver: synapse.Synapse, bridges: Bridges):
    user_id, password = new_user(homeserver, "mallory")
    body = assert_error(signin(bridges.base_url, userID=user_id, password=password), 403)
    message = str(body["message"])
    assert user_id in message or "allow" in message.lower(), body
    assert homeserver.devices(user_id) == []
    # The same user with a Matrix token is refused too.
    token = matrix_token(homeserver, user_id, password)
    assert_error(signin(bridges.base_url, matrixAccessToken=token), 403)
    homeserver.logout(token)


def test_without_users_allow_every_user_of_the_homeserver_may_sign_in(homeserver: synapse.Synapse, open_bridges: Bridges):
    user_id, password = new_user(homeserver, "mallory")
    response = signin(open_bridges.base_url, userID=user_id, password=password)
    assert response.status_code == 200, response.text
    assert response.json()["userID"] == user_id
    # A user of another server is not the homeserver's to vouch for.
    assert signin(open_bridges.base_url, userID="@alice:elsewhere.example", password=password).status_code in (401, 403)


def test_an_incomplete_request_is_refused(bridges: Bridges):
    # 400 as the contract lists, or 422 with details.issues as the server answers other invalid fields.
    for body in ({"userID": f"@alice-x:{SERVER_NAME}"}, {"password": "pw"}, {"userID": "not a user id", "password": "pw"}):
        response = signin(bridges.base_url, **body)
        assert response.status_code in (400, 422), (body, response.text)
        assert_error(response, response.status_code)


def test_signout_revokes_the_token(homeserver: synapse.Synapse, bridges: Bridges):
    user_id, password = new_user(homeserver, "alice")
    token = signin(bridges.base_url, userID=user_id, password=password).json()["accessToken"]
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{bridges.base_url}/v1/bridges", headers=headers, timeout=30).status_code == 200
    out = httpx.post(f"{bridges.base_url}/_bridges/v1/signout", headers=headers, timeout=30)
    assert out.status_code == 204, out.text
    assert_error(whoami(bridges.base_url, token), 401)
    assert_error(httpx.get(f"{bridges.base_url}/v1/bridges", headers=headers, timeout=30), 401)


# --- The command line ---------------------------------------------------------------------------


def cli_env(home: Path, **extra: str) -> Dict[str, str]:
    """No token from run.sh's environment, and a configuration folder of the test's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BEEPER_", "BRIDGES_"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"), TERM="xterm", NO_COLOR="1")
    env.update(extra)
    return env


def run_cli(home: Path, *args: str, input: Optional[str] = None, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=60, input=input,
                          env=cli_env(home, **extra))


def credentials(home: Path) -> Path:
    return home / "config" / "bridges" / "credentials.json"


def test_cli_signin_asks_hides_the_password_and_keeps_the_token(
    homeserver: synapse.Synapse, bridges: Bridges, tmp_path: Path,
):
    user_id, password = new_user(homeserver, "cli")
    child = pexpect.spawn(CLI, ["signin", "--server", bridges.base_url], env=cli_env(tmp_path), encoding="utf-8",
                          timeout=30, dimensions=(40, 200))
    seen = io.StringIO()
    child.logfile_read = seen  # everything the terminal showed, to look for the password in
    child.expect("Matrix user ID")
    child.sendline(user_id)
    child.expect("Password")
    child.sendline(password)
    child.expect("Signed in")
    child.expect(pexpect.EOF)
    child.close()
    transcript = seen.getvalue()
    assert child.exitstatus == 0, transcript
    assert user_id in transcript
    assert password not in transcript

    file = credentials(tmp_path)
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert stat.S_IMODE(file.parent.stat().st_mode) == 0o700
    text = file.read_text()
    assert password not in text
    entry = json.loads(text)["servers"][bridges.base_url]
    assert entry["userID"] == user_id
    assert whoami(bridges.base_url, entry["accessToken"]).json()["userID"] == user_id
    assert homeserver.devices(user_id) == []

    me = run_cli(tmp_path, "whoami", "--server", bridges.base_url)
    assert me.returncode == 0, me.stderr
    assert user_id in me.stdout and bridges.base_url in me.stdout
    me_json = json.loads(run_cli(tmp_path, "whoami", "--server", bridges.base_url, "--json").stdout)
    assert me_json["userID"] == user_id and me_json["server"] == bridges.base_url
    assert me_json["tokenID"] == entry["tokenID"]
    listed = run_cli(tmp_path, "list", "--server", bridges.base_url, "--json")
    assert listed.returncode == 0, listed.stderr

    out = run_cli(tmp_path, "signout", "--server", bridges.base_url)
    assert out.returncode == 0, out.stderr
    assert not file.exists()
    assert whoami(bridges.base_url, entry["accessToken"]).status_code == 401


def test_cli_signin_reads_the_password_from_standard_input(
    homeserver: synapse.Synapse, bridges: Bridges, tmp_path: Path,
):
    user_id, password = new_user(homeserver, "cli")
    done = run_cli(tmp_path, "signin", "--base-url", bridges.base_url, "--user", user_id, "--password-stdin",
                   input=password + "\n")
    assert done.returncode == 0, done.stderr
    assert password not in done.stdout + done.stderr
    assert json.loads(credentials(tmp_path).read_text())["servers"][bridges.base_url]["userID"] == user_id
    # Signing in again replaces the kept token and revokes the one it replaces.
    first = json.loads(credentials(tmp_path).read_text())["servers"][bridges.base_url]["accessToken"]
    again = run_cli(tmp_path, "signin", "--server", bridges.base_url, "--user", user_id, "--password-stdin",
                    input=password + "\n")
    assert again.returncode == 0, again.stderr
    second = json.loads(credentials(tmp_path).read_text())["servers"][bridges.base_url]["accessToken"]
    assert second != first
    assert whoami(bridges.base_url, first).status_code == 401
    assert whoami(bridges.base_url, second).status_code == 200


def test_cli_signin_with_a_matrix_token(homeserver: synapse.Synapse, bridges: Bridges, tmp_path: Path):
    user_id, password = new_user(homeserver, "cli")
    token = matrix_token(homeserver, user_id, password)
    done = run_cli(tmp_path, "signin", "--server", bridges.base_url, "--matrix-token-stdin", input=token + "\n")
    assert done.returncode == 0, done.stderr
    assert token not in done.stdout + done.stderr
    assert user_id in run_cli(tmp_path, "whoami", "--server", bridges.base_url).stdout
    assert matrix_whoami(homeserver, token) == 200
    homeserver.logout(token)


def test_cli_refused_sign_ins_exit_1_and_keep_nothing(homeserver: synapse.Synapse, bridges: Bridges, tmp_path: Path):
    user_id, _ = new_user(homeserver, "cli")
    wrong = run_cli(tmp_path, "signin", "--server", bridges.base_url, "--user", user_id, "--password-stdin",
                    input="not-the-password\n")
    assert wrong.returncode == 1, wrong.stderr
    assert wrong.stderr.strip()
    outsider, password = new_user(homeserver, "mallory")
    refused = run_cli(tmp_path, "signin", "--server", bridges.base_url, "--user", outsider, "--password-stdin",
                      input=password + "\n")
    assert refused.returncode == 1, refused.stderr
    assert not credentials(tmp_path).exists()


def test_cli_usage_errors_exit_2(bridges: Bridges, tmp_path: Path):
    for args in (
        ["signin", "--server", bridges.base_url, "--password-stdin"],  # no --user: stdin holds the password
        ["signin", "--server", bridges.base_url, "--user", "alice"],  # not a whole user ID
        ["signin", "--server", bridges.base_url, "--user", "@alice:x", "--password", "pw"],  # never on argv
        ["signin", "--server", bridges.base_url, "--password-stdin", "--matrix-token-stdin", "--user", "@a:x"],
    ):
        result = run_cli(tmp_path, *args, input="pw\n")
        assert result.returncode == 2, (args, result.stderr)


def test_cli_token_precedence(homeserver: synapse.Synapse, bridges: Bridges, tmp_path: Path):
    user_id, password = new_user(homeserver, "cli")
    assert run_cli(tmp_path, "signin", "--server", bridges.base_url, "--user", user_id, "--password-stdin",
                   input=password + "\n").returncode == 0
    assert run_cli(tmp_path, "whoami", "--server", bridges.base_url).returncode == 0
    # BEEPER_ACCESS_TOKEN, then --token, win over the kept token.
    assert run_cli(tmp_path, "whoami", "--server", bridges.base_url, BEEPER_ACCESS_TOKEN="wrong").returncode == 4
    assert run_cli(tmp_path, "whoami", "--server", bridges.base_url, "--token", "wrong").returncode == 4
    # BEEPER_BASE_URL picks the server whose kept token is used.
    assert run_cli(tmp_path, "whoami", BEEPER_BASE_URL=bridges.base_url).returncode == 0
    # Another server has no kept token, and this home no local server.
    other = run_cli(tmp_path, "whoami", "--server", "http://127.0.0.1:9")
    assert other.returncode == 4, other.stderr
    assert run_cli(tmp_path, "signout", "--server", bridges.base_url).returncode == 0


def test_cli_signout_leaves_a_local_servers_own_token_alone(bridges: Bridges, tmp_path: Path):
    token = (bridges.data_dir / "access-token").read_text().strip()
    refused = run_cli(tmp_path, "signout", "--server", bridges.base_url, BRIDGES_DATA_DIR=str(bridges.data_dir))
    assert refused.returncode == 1, refused.stderr
    assert "bridges token revoke" in refused.stderr
    assert httpx.get(f"{bridges.base_url}/v1/bridges", headers={"Authorization": f"Bearer {token}"},
                     timeout=30).status_code == 200


# --- Last: what must never be kept -------------------------------------------------------------


def test_no_password_or_matrix_token_reaches_a_log_or_a_file(bridges: Bridges, homeserver: synapse.Synapse):
    assert SECRETS, "run with the tests above"
    files = [bridges.log_path] + [p for p in bridges.data_dir.rglob("*") if p.is_file()]
    for path in files:
        content = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in content, f"a secret is in {path}"


# --- The web page -----------------------------------------------------------------------------


def test_the_web_page_signs_in_with_a_matrix_password(homeserver: synapse.Synapse, bridges: Bridges):
    user_id, password = new_user(homeserver, "alice-page")
    outsider, outsider_password = new_user(homeserver, "page")
    with httpx.Client(base_url=bridges.base_url, timeout=30) as browser:
        form = browser.get("/signin")
        assert form.status_code == 200
        assert 'name="password"' in form.text, "the page offers Matrix sign-in when the server does"
        nonce = re.search(r'name="nonce" value="([^"]+)"', form.text).group(1)
        origin = {"Origin": bridges.base_url}

        wrong = browser.post(
            "/signin", data={"method": "password", "nonce": nonce, "next": "/", "user": user_id, "password": "wrong"},
            headers=origin)
        assert wrong.status_code == 401
        assert "not right" in wrong.text

        nonce = re.search(r'name="nonce" value="([^"]+)"', wrong.text).group(1)
        refused = browser.post(
            "/signin",
            data={"method": "password", "nonce": nonce, "next": "/", "user": outsider, "password": outsider_password},
            headers=origin)
        assert refused.status_code == 403
        assert "users.allow" in refused.text

        nonce = re.search(r'name="nonce" value="([^"]+)"', refused.text).group(1)
        signed_in = browser.post(
            "/signin", data={"method": "password", "nonce": nonce, "next": "/", "user": user_id, "password": password},
            headers=origin)
        assert signed_in.status_code == 303, signed_in.text
        overview = browser.get("/")
        assert overview.status_code == 200
        assert user_id in overview.text
        assert password not in overview.text
    # The page's own token acts as the user, and no Matrix session was left behind.
    assert homeserver.devices(user_id) == []
