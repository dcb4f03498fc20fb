"""What reaches the server below the API: oversized headers, and the files `bridges serve` makes."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import time
from urllib.parse import urlparse

import httpx
import pytest

CLI = os.environ.get("BRIDGES_CLI", "")
BASE_URL = os.environ.get("BEEPER_BASE_URL", "")

pytestmark = pytest.mark.skipif(not (CLI and BASE_URL), reason="run through run.sh")


def raw_get(headers: str) -> bytes:
    address = urlparse(BASE_URL)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(f"GET /v1/info HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode())
        return connection.recv(100)


@pytest.mark.parametrize("headers", [
    "".join(f"X-Many-{i}: a\r\n" for i in range(5000)),
    f"X-Huge: {'a' * 200_000}\r\n",
])
def test_oversized_headers_are_refused_and_the_server_stays_up(headers: str):
    assert raw_get(headers).startswith(b"HTTP/1.1 400")
    assert httpx.get(f"{BASE_URL}/v1/info", timeout=10).status_code == 200


def test_serve_keeps_its_files_private(tmp_path):
    data = tmp_path / "data"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([CLI, "serve", "--port", str(port), "--data-dir", str(data)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        first_lines = [server.stdout.readline() for _ in range(3)]
        token_file = data / "access-token"
        deadline = time.monotonic() + 30
        while not token_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        token = token_file.read_text().strip()
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert stat.S_IMODE((data / "bridges.sqlite").stat().st_mode) == 0o600
        assert token.startswith("bt_") and len(token) >= 40
        assert any(token in line for line in first_lines), first_lines  # printed once, at first start
        answer = httpx.get(f"http://127.0.0.1:{port}/v1/bridges", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert answer.status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=20)
