"""The `bridges` command-line tool, driven through a pseudo-terminal against the running server.

`run.sh` sets BRIDGES_CLI to the binary, and BEEPER_BASE_URL / BEEPER_ACCESS_TOKEN, which the tool
reads like the official SDKs do. Every test that signs in on the single-account `demo-messenger`
removes its login again, so the SDK tests find that bridge empty.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid

import httpx
import pexpect

from conftest import CLI, needs_cli, unique_username

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
