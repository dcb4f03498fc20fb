"""The `bridges` command-line tool, driven through a pseudo-terminal against the running server.

`run.sh` sets BRIDGES_CLI to the binary, and BEEPER_BASE_URL / BEEPER_ACCESS_TOKEN, which the tool
reads like the official SDKs do. Every test that signs in on the single-account `demo-messenger`
removes its login again, so the SDK tests find that bridge empty.
"""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import threading
import uuid

import httpx
import pexpect
import pytest

from conftest import BASE_URL, CLI, TOKEN, needs_cli, server_port, unique_username

pytestmark = needs_cli

# The lookahead makes pexpect wait for the whole link, not a prefix of it still being written.
URL = re.compile(r"(http://127\.0\.0\.1:\d+/demo/(?:scan|approve)/[a-z0-9]+)(?=[\s).])")


def spawn(*args: str) -> pexpect.spawn:
    env = dict(os.environ, TERM="xterm", NO_COLOR="1")
    return pexpect.spawn(CLI, list(args), env=env, encoding="utf-8", timeout=20, dimensions=(80, 200))


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=30)


def finish(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus if child.exitstatus is not None else 128 + (child.signalstatus or 0)


def test_password_login_hides_the_password():
    username = unique_username("cli")
    password = f"pw-{uuid.uuid4().hex}"
    child = spawn("connect", "demo-password", "--flow", "password")
    child.expect("Username")
    child.sendline(username)
    child.expect("Password")
    child.sendline(password)
    child.expect("Connected demo-password_" + username)
    assert password not in child.before + child.after
    assert finish(child) == 0

    logins = json.loads(run("logins", "demo-password", "--json").stdout)
    assert username in [login["loginID"] for login in logins]


def test_two_factor_login_asks_for_the_code():
    child = spawn("connect", "demo-password")
    child.expect("Username")
    child.sendline(unique_username("cli-2fa"))
    child.expect("Password")
    child.sendline("pw")
    child.expect("Two-factor code")
    child.sendline("123456")
    child.expect("Connected")
    assert finish(child) == 0


def test_a_required_field_is_asked_again():
    child = spawn("connect", "demo-password")
    child.expect("Username")
    child.sendline("")
    child.expect("This field is required")
    child.expect("Username")
    child.sendline(unique_username("cli"))
    child.expect("Password")
    child.sendline("pw")
    child.expect("Connected")
    assert finish(child) == 0


def test_a_wrong_password_fails_with_exit_code_1():
    child = spawn("connect", "demo-password")
    child.expect("Username")
    child.sendline("cli-wrong")
    child.expect("Password")
    child.sendline("wrong-password")
    child.expect("incorrect")
    assert finish(child) == 1


def test_qr_login_draws_the_code_and_completes_when_scanned():
    child = spawn("connect", "demo-messenger", "--flow", "qr")
    child.expect("▀")  # the code, drawn with half blocks
    child.expect(URL)
    httpx.get(child.match.group(1), timeout=10)
    child.expect("Connected demo-messenger_")
    assert finish(child) == 0
    removed = run("remove", "demo-messenger", "phone-15550100", "--yes")
    assert removed.returncode == 0, removed.stderr


class RecordingProxy:
    """A TCP forwarder in front of the server that keeps what clients sent, so a test can count
    the requests a command made (WebSocket frames from a client are masked, never mistaken)."""

    def __init__(self) -> None:
        self.sent = bytearray()
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", server_port()))
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket, record: bool) -> None:
        try:
            while data := source.recv(65536):
                if record:
                    with self.lock:
                        self.sent += data
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def count(self, pattern: str) -> int:
        with self.lock:
            return len(re.findall(pattern.encode(), bytes(self.sent)))

    def close(self) -> None:
        self.listener.close()


def test_qr_login_redraws_the_code_from_events_without_polling():
    proxy = RecordingProxy()
    try:
        child = spawn("connect", "demo-messenger", "--flow", "qr", "--base-url", proxy.base_url)
        child.expect(URL)
        first = child.match.group(1)
        # The conformance server replaces the code every 2 s; the redraw must come by itself.
        second = first
        while second == first:
            child.expect(URL)
            second = child.match.group(1)
        httpx.get(second, timeout=10)  # "scans" the redrawn code
        child.expect("Connected demo-messenger_")
        assert finish(child) == 0
        assert proxy.count(r"GET /v1/ws ") == 1
        # No display submits that wait in the server, and at most the one read after subscribing.
        assert proxy.count(r"POST /v1/bridges/demo-messenger/login-sessions/[^/ ]+/steps/") == 0
        assert proxy.count(r"GET /v1/bridges/demo-messenger/login-sessions/[^/ ]+ ") <= 1
    finally:
        proxy.close()
    removed = run("remove", "demo-messenger", "phone-15550100", "--yes")
    assert removed.returncode == 0, removed.stderr


def test_watch_json_prints_a_login_as_it_happens():
    headers = {"Authorization": f"Bearer {TOKEN}"}
    sessions = f"{BASE_URL}/v1/bridges/demo-password/login-sessions"
    child = spawn("watch", "--json", "--bridge", "demo-password")
    # The first event shows the subscription is in place; until then, each try makes a new one.
    started = []
    while True:
        started.append(httpx.post(sessions, headers=headers, timeout=10).json()["loginSessionID"])
        if child.expect([r"\{[^\r\n]*\}\r\n", pexpect.TIMEOUT], timeout=2) == 0:
            break
    for session_id in started:
        httpx.delete(f"{sessions}/{session_id}", headers=headers, timeout=10)

    username = unique_username("cli-watch")
    session = httpx.post(sessions, headers=headers, timeout=10).json()
    step = session["currentStep"]["stepID"]
    done = httpx.post(f"{sessions}/{session['loginSessionID']}/steps/{step}", headers=headers, timeout=10,
                      json={"type": "user_input", "fields": {"username": username, "password": "pw"}}).json()
    assert done["status"] == "complete", done

    seen = []
    while not any(e["type"] == "login.upserted" and e["data"]["loginID"] == username for e in seen):
        child.expect(r"(\{[^\r\n]*\})\r\n")
        seen.append(json.loads(child.match.group(1)))
    assert all(e["bridgeID"] == "demo-password" and e["seq"] >= 1 for e in seen)
    mine = [e["data"]["status"] for e in seen
            if e["type"] == "login-session.updated" and e["data"]["loginSessionID"] == session["loginSessionID"]]
    assert mine[-1] == "complete", mine
    child.sendintr()
    assert finish(child) == 130
    assert run("remove", "demo-password", username, "--yes").returncode == 0


def test_watch_prints_a_readable_line_per_event():
    child = spawn("watch", "--bridge", "demo-password")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    sessions = f"{BASE_URL}/v1/bridges/demo-password/login-sessions"
    while True:
        session_id = httpx.post(sessions, headers=headers, timeout=10).json()["loginSessionID"]
        httpx.delete(f"{sessions}/{session_id}", headers=headers, timeout=10)
        if child.expect([rf"demo-password login session {session_id} cancelled", pexpect.TIMEOUT], timeout=2) == 0:
            break
    child.sendintr()
    assert finish(child) == 130


def test_ctrl_c_cancels_the_session_on_the_server():
    child = spawn("connect", "demo-messenger", "--flow", "pairing-code")
    child.expect("Phone number")
    child.sendline("+15550100")
    child.expect("Your code")
    child.expect(URL)
    approve = child.match.group(1)
    child.expect("Waiting")
    child.sendintr()
    child.expect("Cancelled")
    assert finish(child) == 130
    # The session is gone on the server: its confirmation link no longer works.
    assert httpx.get(approve, timeout=10).status_code == 410
    assert json.loads(run("logins", "demo-messenger", "--json").stdout) == []


def test_json_output_parses_back():
    bridges = json.loads(run("list", "--json").stdout)
    assert {"demo-password", "demo-messenger", "demo-cookies", "demo-workspace"} <= {b["id"] for b in bridges}
    flows = json.loads(run("flows", "demo-messenger", "--json").stdout)
    assert [f["id"] for f in flows] == ["qr", "pairing-code", "emoji", "nothing"]
    capabilities = json.loads(run("capabilities", "demo-password").stdout)
    assert "resolve_identifier" in capabilities
    assert isinstance(json.loads(run("accounts", "--json").stdout), list)


def test_tables_and_failures_have_clear_messages_and_exit_codes():
    listing = run("list")
    assert listing.returncode == 0
    assert listing.stdout.splitlines()[0].split() == ["BRIDGE", "NAME", "PROVIDER", "STATUS", "ACCOUNTS"]
    missing = run("show", "no-such-bridge")
    assert missing.returncode == 3 and "no-such-bridge" in missing.stderr
    bad_token = run("list", "--token", "wrong")
    assert bad_token.returncode == 4 and "token" in bad_token.stderr
    unreachable = run("list", "--base-url", "http://127.0.0.1:9")
    assert unreachable.returncode == 5 and "reach" in unreachable.stderr


def test_serve_refuses_a_non_loopback_address_without_the_flag(tmp_path):
    refused = run("serve", "--host", "0.0.0.0", "--port", "0", "--data-dir", str(tmp_path))
    assert refused.returncode != 0
    assert "Refusing to listen on 0.0.0.0" in refused.stderr
    assert "--allow-remote" in refused.stderr
    assert not (tmp_path / "bridges.sqlite").exists()


def test_coloured_tables_stay_aligned():
    env = dict(os.environ, TERM="xterm")
    env.pop("NO_COLOR", None)
    child = pexpect.spawn(CLI, ["list"], env=env, encoding="utf-8", timeout=20, dimensions=(80, 200))
    child.expect(pexpect.EOF)
    output = child.before
    assert "\x1b[" in output, "a terminal gets colour"
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in output.splitlines() if line.strip()]
    status, accounts = lines[0].index("STATUS"), lines[0].index("ACCOUNTS")
    for line in lines[1:]:
        assert line[status:].split()[0] in ("available", "connected", "temporarily_unavailable"), line
        # The column after the coloured one starts where its header does.
        assert line[accounts - 2:accounts] == "  " and line[accounts] != " ", line


# --------------------------------------------------------------------------------------------
# Logging in without prompts (issue 14): --field, --cookie, --curl, --no-input, --json
# --------------------------------------------------------------------------------------------

# As Chromium's developer tools write it (Network → right-click → Copy → Copy as cURL (bash)).
CHROMIUM_CURL = """curl '{base}/demo/cookies/signed-in' \\
  -H 'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8' \\
  -H 'Accept-Language: en-US,en;q=0.9' \\
  -H 'Connection: keep-alive' \\
  -b 'demo_session={session}; theme=dark' \\
  -H 'Referer: {base}/demo/cookies/sign-in' \\
  -H 'Sec-Fetch-Mode: navigate' \\
  -H 'X-Demo-CSRF: {csrf}' \\
  -H 'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36' \\
  -H $'sec-ch-ua: "Chromium";v="131", "Not_A Brand";v="24", \\'quoted\\'' \\
  --compressed
"""


def recorded(child: pexpect.spawn) -> io.StringIO:
    """Everything the command writes to the terminal from now on, to search for secrets."""
    log = io.StringIO()
    child.logfile_read = log
    return log


def test_fields_given_as_options_are_not_asked_for():
    username = unique_username("cli")
    child = spawn("connect", "demo-password", "--flow", "password",
                  "--field", f"username={username}", "--field", "password=pw")
    assert child.expect(["Username", "Password", "Connected demo-password_" + username]) == 2
    assert finish(child) == 0


def test_a_second_step_is_answered_by_a_field_option():
    child = spawn("connect", "demo-password", "--flow", "password", "--field", "code=123456")
    child.expect("Username")
    child.sendline(unique_username("cli-2fa"))
    child.expect("Password")
    child.sendline("pw")
    assert child.expect(["Two-factor code", "Connected"]) == 1
    assert finish(child) == 0


def test_cookies_login_from_a_chromium_curl_command(tmp_path):
    name = unique_username("curl")
    secret, csrf, token = uuid.uuid4().hex, uuid.uuid4().hex, uuid.uuid4().hex
    command = tmp_path / "request.sh"
    command.write_text(CHROMIUM_CURL.format(base=BASE_URL, session=f"{name}.{secret}", csrf=csrf))
    child = spawn("connect", "demo-cookies", "--curl", str(command))
    log = recorded(child)
    child.expect("Not in the cURL command: localStorage entry demo_token")
    # What the command lacks is asked for, hidden.
    assert child.expect(["cookie demo_session", "request header X-Demo-CSRF", "localStorage entry demo_token"]) == 2
    child.sendline(token)
    child.expect("Connected demo-cookies_" + name)
    assert finish(child) == 0
    for value in (secret, csrf, token):
        assert value not in log.getvalue()


def test_curl_from_standard_input_with_no_input_names_the_missing_field():
    command = CHROMIUM_CURL.format(base=BASE_URL, session="stdin.x", csrf="c")
    missing = subprocess.run([CLI, "connect", "demo-cookies", "--curl", "-", "--no-input"],
                             input=command, capture_output=True, text=True, timeout=30)
    assert missing.returncode == 2, missing.stderr
    assert "demo_token" in missing.stderr and "--cookie token=" in missing.stderr

    name = unique_username("stdin")
    done = subprocess.run([CLI, "connect", "demo-cookies", "--curl", "-", "--no-input", "--cookie", "token=t"],
                          input=CHROMIUM_CURL.format(base=BASE_URL, session=f"{name}.x", csrf="c"),
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert f"demo-cookies_{name}" in done.stdout


def test_no_input_fails_with_exit_2_naming_the_field():
    result = run("connect", "demo-password", "--flow", "password", "--no-input", "--field", "username=someone")
    assert result.returncode == 2, result.stderr
    assert "'password'" in result.stderr and "--field password=" in result.stderr


def test_cookie_values_typed_in_are_hidden():
    name = unique_username("hidden")
    secrets = [uuid.uuid4().hex for _ in range(3)]
    child = spawn("connect", "demo-cookies")
    log = recorded(child)
    for prompt, value in zip(["cookie demo_session", "request header X-Demo-CSRF", "localStorage entry demo_token"],
                             [f"{name}.{secrets[0]}", secrets[1], secrets[2]]):
        child.expect(prompt)
        child.sendline(value)
    child.expect("Connected demo-cookies_" + name)
    assert finish(child) == 0
    for value in secrets:
        assert value not in log.getvalue()


def test_json_lines_follow_the_session():
    username = unique_username("cli-json")
    result = run("connect", "demo-password", "--flow", "password", "--json",
                 "--field", f"username={username}", "--field", "password=pw")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["status"] for line in lines] == ["waiting_for_input", "complete"]
    assert lines[0]["currentStep"]["type"] == "user_input"
    assert lines[-1]["loginID"] == username
    assert "Connected" in result.stderr

    failed = run("connect", "demo-password", "--flow", "password", "--json",
                 "--field", "username=someone", "--field", "password=wrong-password")
    assert failed.returncode == 1
    assert json.loads(failed.stdout.splitlines()[-1])["status"] == "failed"


def test_json_lines_let_a_script_show_the_qr_code_itself():
    child = spawn("connect", "demo-messenger", "--flow", "qr", "--json")
    lines = []
    while not lines or lines[-1]["status"] == "waiting_for_display":
        child.expect(r"(\{[^\r\n]*\})\r\n")
        lines.append(json.loads(child.match.group(1)))
        if lines[-1]["status"] == "waiting_for_display":
            assert lines[-1]["currentStep"]["display"]["type"] == "qr"
            httpx.get(lines[-1]["currentStep"]["display"]["data"], timeout=10)  # "scans" the code
    assert lines[0]["status"] == "waiting_for_display"
    assert lines[-1]["status"] == "complete", lines[-1]
    assert finish(child) == 0
    removed = run("remove", "demo-messenger", lines[-1]["loginID"], "--yes")
    assert removed.returncode == 0, removed.stderr


@pytest.mark.parametrize("args", [
    ["list", "--no-such-option"],
    ["no-such-command"],
    ["connect"],
    ["connect", "demo-password", "--field", "no-equals-sign"],
    ["remove", "demo-password", "someone", "--scope", "everywhere"],
])
def test_usage_errors_exit_2(args):
    result = run(*args)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert result.stderr.strip()
