#!/usr/bin/env python3
"""A real Synapse homeserver for tests: installed on demand, configured in a scratch folder,
listening on a free loopback port, with users made through shared-secret registration.

As a module (the sign-in conformance tests use it from pytest):

    import synapse
    with synapse.start() as hs:                      # installs into .build/synapse-venv if needed
        alice = hs.register("alice", "secret")       # -> Registered(user_id, access_token, device_id)
        hs.devices(alice.user_id)                    # the admin API's device list

As a command (for trying Bridges by hand):

    python Tests/synapse/synapse.py install
    python Tests/synapse/synapse.py start --dir /tmp/hs      # prints the base URL, leaves it running
    python Tests/synapse/synapse.py register --dir /tmp/hs alice secret [--admin]
    python Tests/synapse/synapse.py devices --dir /tmp/hs @alice:localhost
    python Tests/synapse/synapse.py stop --dir /tmp/hs

Only the standard library is used here, so any Python 3.9+ can drive it; Synapse itself runs in
its own venv. The homeserver is for tests only: its shared secret and admin token sit in the
scratch folder (mode 0700), which `stop` deletes.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".build" / "synapse-venv"
REQUIREMENTS = Path(__file__).resolve().with_name("requirements.txt")
INSTALL_TIMEOUT = 1200
READY_TIMEOUT = 180
STATE_FILE = "state.json"


class SynapseUnavailable(Exception):
    """Synapse could not be installed here (no registry, no wheel for this platform)."""


class SynapseFailed(Exception):
    """Synapse was installed but did not start, or answered something unexpected."""


@dataclass
class Registered:
    user_id: str
    access_token: str
    device_id: str


# --- Installing -------------------------------------------------------------------------------


def venv_python(venv: Path = VENV) -> Path:
    return venv / "bin" / "python"


def install(venv: Path = VENV) -> Path:
    """Creates the venv and installs the pinned Synapse unless the same pins are already there.
    Returns the venv's Python. Raises SynapseUnavailable when pip cannot get it."""
    python = venv_python(venv)
    wanted = REQUIREMENTS.read_text()
    marker = venv / ".bridges-requirements"
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    if not python.exists():
        # `python -m venv` from inside another venv builds on that venv's base interpreter.
        created = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True)
        if created.returncode != 0:
            raise SynapseUnavailable(f"cannot create {venv}: {created.stderr.strip()[-2000:]}")
    try:
        installed = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(REQUIREMENTS)],
            capture_output=True, text=True, timeout=INSTALL_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise SynapseUnavailable(f"installing Synapse took longer than {INSTALL_TIMEOUT} s") from None
    if installed.returncode != 0:
        raise SynapseUnavailable(f"pip could not install Synapse: {installed.stderr.strip()[-2000:]}")
    marker.write_text(wanted)
    return python


# --- Talking to it ----------------------------------------------------------------------------


def request(
    method: str, url: str, body: Optional[Dict[str, Any]] = None, token: Optional[str] = None, timeout: float = 30,
) -> Tuple[int, Dict[str, Any]]:
    """One JSON request; answers (status, decoded body) for error statuses too."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, _json(response.read())
    except urllib.error.HTTPError as error:
        return error.code, _json(error.read())


def _json(raw: bytes) -> Dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {"raw": raw.decode(errors="replace")}
    return value if isinstance(value, dict) else {"value": value}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Synapse:
    """A running homeserver. `start()` makes one; `attach()` finds one a `start` command left."""

    def __init__(
        self, directory: Path, port: int, server_name: str, registration_secret: str, pid: int,
        process: Optional[subprocess.Popen] = None, owns_directory: bool = False,
    ) -> None:
        self.directory = directory
        self.port = port
        self.server_name = server_name
        self.registration_secret = registration_secret
        self.pid = pid
        self.process = process
        self.owns_directory = owns_directory
        self.admin: Optional[Registered] = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.directory / "homeserver.log"

    def user_id(self, localpart: str) -> str:
        return f"@{localpart}:{self.server_name}"

    def __enter__(self) -> "Synapse":
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def register(self, localpart: str, password: str, admin: bool = False) -> Registered:
        """Shared-secret registration (`/_synapse/admin/v1/register`): a nonce, then an HMAC-SHA1
        over nonce, name, password and admin flag, NUL-separated, keyed with the shared secret.
        Registration signs the user in once: the answer's device is theirs to keep or log out."""
        url = f"{self.base_url}/_synapse/admin/v1/register"
        status, body = request("GET", url)
        if status != 200 or "nonce" not in body:
            raise SynapseFailed(f"no registration nonce: HTTP {status} {body}")
        nonce = body["nonce"]
        message = b"\x00".join(
            [nonce.encode(), localpart.encode(), password.encode(), b"admin" if admin else b"notadmin"])
        mac = hmac.new(self.registration_secret.encode(), message, hashlib.sha1).hexdigest()
        status, body = request(
            "POST", url, {"nonce": nonce, "username": localpart, "password": password, "admin": admin, "mac": mac})
        if status != 200:
            raise SynapseFailed(f"registering {localpart} failed: HTTP {status} {body.get('errcode')} {body.get('error')}")
        return Registered(body["user_id"], body["access_token"], body.get("device_id", ""))

    def login(self, user_id: str, password: str, device_name: str = "synapse.py") -> Registered:
        """A password login of our own, for a Matrix access token to hand to Bridges."""
        status, body = request("POST", f"{self.base_url}/_matrix/client/v3/login", {
            "type": "m.login.password", "identifier": {"type": "m.id.user", "user": user_id},
            "password": password, "initial_device_display_name": device_name,
        })
        if status != 200:
            raise SynapseFailed(f"login of {user_id} failed: HTTP {status} {body.get('errcode')}")
        return Registered(body["user_id"], body["access_token"], body.get("device_id", ""))

    def logout(self, access_token: str) -> None:
        request("POST", f"{self.base_url}/_matrix/client/v3/logout", {}, token=access_token)

    def admin_token(self) -> str:
        if self.admin is None:
            self.admin = self.register(f"admin-{secrets.token_hex(4)}", secrets.token_urlsafe(24), admin=True)
            self._save_state()
        return self.admin.access_token

    def devices(self, user_id: str) -> List[Dict[str, Any]]:
        """The user's devices (sessions), from the admin API."""
        quoted = urllib.parse.quote(user_id, safe="")
        status, body = request(
            "GET", f"{self.base_url}/_synapse/admin/v2/users/{quoted}/devices", token=self.admin_token())
        if status != 200:
            raise SynapseFailed(f"device list of {user_id}: HTTP {status} {body.get('errcode')}")
        return list(body.get("devices", []))

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Polls `/_matrix/client/versions` until it answers, the process dies, or time is up."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.is_running():
                raise SynapseFailed(f"Synapse exited before it answered:\n{self.log_tail()}")
            try:
                status, _ = request("GET", f"{self.base_url}/_matrix/client/versions", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SynapseFailed(f"Synapse did not answer within {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.2)

    def is_running(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        return _is_synapse(self.pid)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, remove_directory: Optional[bool] = None) -> None:
        """SIGTERM, then SIGKILL after 20 s; removes the scratch folder if this made it."""
        if self.is_running():
            os.kill(self.pid, signal.SIGTERM)
            deadline = time.monotonic() + 20
            while self.is_running() and time.monotonic() < deadline:
                time.sleep(0.1)
            if self.is_running():
                os.kill(self.pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=10)
        if self.owns_directory if remove_directory is None else remove_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    def _save_state(self) -> None:
        state = {
            "pid": self.pid, "port": self.port, "server_name": self.server_name,
            "registration_secret": self.registration_secret,
            "admin": self.admin.__dict__ if self.admin else None,
        }
        path = self.directory / STATE_FILE
        path.write_text(json.dumps(state))
        path.chmod(0o600)


def _is_synapse(pid: int) -> bool:
    """Whether the process is alive and still Synapse (a reused PID must never be signalled)."""
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    if not os.path.isdir("/proc"):
        return True  # no way to check the command line (macOS); the PID answers
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"synapse.app.homeserver" in f.read()
    except OSError:
        return False


# --- Configuring and starting -----------------------------------------------------------------


def _signing_key() -> str:
    """An ed25519 signing key in Synapse's file format: algorithm, version, unpadded base64 seed."""
    seed = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    return f"ed25519 a_{secrets.token_hex(2)} {seed}\n"


def _config(directory: Path, port: int, server_name: str, registration_secret: str) -> str:
    # Rate limits high enough that no test trips one; Bridges' own limits are what the tests check.
    relaxed = {"per_second": 1000, "burst_count": 1000}
    config = {
        "server_name": server_name,
        "public_baseurl": f"http://127.0.0.1:{port}/",
        "pid_file": str(directory / "homeserver.pid"),
        "listeners": [{
            "port": port, "bind_addresses": ["127.0.0.1"], "type": "http", "tls": False, "x_forwarded": False,
            "resources": [{"names": ["client"], "compress": False}],
        }],
        "database": {"name": "sqlite3", "args": {"database": str(directory / "homeserver.db")}},
        "log_config": str(directory / "log.yaml"),
        "media_store_path": str(directory / "media"),
        "signing_key_path": str(directory / "signing.key"),
        "registration_shared_secret": registration_secret,
        "enable_registration": False,
        "allow_guest_access": False,
        "report_stats": False,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "federation_domain_whitelist": [],
        "macaroon_secret_key": secrets.token_urlsafe(32),
        "form_secret": secrets.token_urlsafe(32),
        "presence": {"enabled": False},
        "url_preview_enabled": False,
        "enable_metrics": False,
        "rc_login": {"address": relaxed, "account": relaxed, "failed_attempts": relaxed},
        "rc_registration": relaxed,
        "rc_message": relaxed,
    }
    # JSON is YAML, so no YAML writer is needed here.
    return json.dumps(config, indent=2)


def _log_config(directory: Path) -> str:
    return json.dumps({
        "version": 1,
        "formatters": {"plain": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
        "handlers": {"file": {
            "class": "logging.FileHandler", "formatter": "plain", "filename": str(directory / "homeserver.log"),
        }},
        "root": {"level": "INFO", "handlers": ["file"]},
        "disable_existing_loggers": False,
    })


def start(
    directory: Optional[Path] = None, server_name: str = "localhost", ready_timeout: float = READY_TIMEOUT,
    detach: bool = False,
) -> Synapse:
    """Installs Synapse if needed, writes a config into `directory` (a new temporary folder when
    not given, removed again by `stop`) and starts it on a free loopback port. Returns once it
    answers. `detach` lets it outlive this process (the `start` command)."""
    python = install()
    owns = directory is None
    directory = Path(tempfile.mkdtemp(prefix="bridges-synapse.")) if directory is None else directory
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    port = free_port()
    secret = secrets.token_urlsafe(32)
    (directory / "homeserver.yaml").write_text(_config(directory, port, server_name, secret))
    (directory / "log.yaml").write_text(_log_config(directory))
    (directory / "signing.key").write_text(_signing_key())
    (directory / "media").mkdir(exist_ok=True)
    stderr = open(directory / "stderr.log", "ab")
    try:
        process = subprocess.Popen(
            [str(python), "-m", "synapse.app.homeserver", "--config-path", str(directory / "homeserver.yaml")],
            cwd=directory, stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr, start_new_session=detach,
        )
    finally:
        stderr.close()
    # Watched through its Popen even when detached: until it has exec'd, its /proc command line is
    # still this script's, which `_is_synapse` would take for an exit.
    hs = Synapse(directory, port, server_name, secret, process.pid, process, owns)
    hs._save_state()
    try:
        hs.wait_ready(ready_timeout)
    except BaseException:
        hs.stop(remove_directory=False)
        raise
    return hs


def attach(directory: Path) -> Synapse:
    """The homeserver a `start --dir` left running."""
    try:
        state = json.loads((directory / STATE_FILE).read_text())
    except OSError:
        raise SynapseFailed(f"no Synapse started in {directory}") from None
    hs = Synapse(directory, state["port"], state["server_name"], state["registration_secret"], state["pid"])
    if state.get("admin"):
        hs.admin = Registered(**state["admin"])
    return hs


# --- The command ------------------------------------------------------------------------------


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="A real Synapse for the Bridges sign-in tests.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("install", help=f"install the pinned Synapse into {VENV}")
    start_parser = commands.add_parser("start", help="start one in the background and print its base URL")
    start_parser.add_argument("--dir", type=Path, help="scratch folder (default: a new temporary one, printed)")
    start_parser.add_argument("--server-name", default="localhost")
    for name, help_text in (("stop", "stop it and delete its folder"), ("url", "print its base URL")):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--dir", type=Path, required=True)
    register_parser = commands.add_parser("register", help="register a user; prints the user ID")
    register_parser.add_argument("--dir", type=Path, required=True)
    register_parser.add_argument("localpart")
    register_parser.add_argument("password")
    register_parser.add_argument("--admin", action="store_true")
    devices_parser = commands.add_parser("devices", help="print a user's devices as JSON")
    devices_parser.add_argument("--dir", type=Path, required=True)
    devices_parser.add_argument("user_id")
    args = parser.parse_args(argv)

    try:
        if args.command == "install":
            began = time.monotonic()
            print(install())
            print(f"ready in {time.monotonic() - began:.1f} s", file=sys.stderr)
        elif args.command == "start":
            began = time.monotonic()
            hs = start(args.dir, args.server_name, detach=True)
            hs.admin_token()
            print(hs.base_url)
            print(f"Synapse {hs.server_name} in {hs.directory} answered after {time.monotonic() - began:.1f} s",
                  file=sys.stderr)
        elif args.command == "stop":
            attach(args.dir).stop(remove_directory=True)
        elif args.command == "url":
            print(attach(args.dir).base_url)
        elif args.command == "register":
            hs = attach(args.dir)
            print(hs.register(args.localpart, args.password, admin=args.admin).user_id)
        elif args.command == "devices":
            print(json.dumps(attach(args.dir).devices(args.user_id), indent=2))
    except (SynapseUnavailable, SynapseFailed, OSError) as error:
        print(f"synapse.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
