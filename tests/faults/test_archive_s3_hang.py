"""Fault matrix, an S3 that hangs instead of refusing (the evaluation saw the writer lock held
for 587 s): every S3 call is bounded by ``LNHM_S3_TIMEOUT`` x (``LNHM_S3_RETRIES`` + 1).

Two servers play the hanging S3, both in this process: one that accepts connections and never
answers anything (the run stops at its first call, the target check), and a proxy in front of
the moto server that passes every request through except DuckDB's upload of the staged Parquet
file, which it accepts and never answers (the run has passed its checks, holds the writer lock
and is mid-day). Either way: exit 1 within a bounded time, one line on stderr that says S3 did
not answer, the hot store untouched (the ledger: every reading still hot, none archived).
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from urllib.parse import urlparse

import pytest

from tests.test_archive import Tier, assert_exactly_one_tier, failures, history

FAST = {"LNHM_S3_TIMEOUT": "2", "LNHM_S3_RETRIES": "1"}
# (retries + 1) attempts of at most the timeout each, per call, plus start-up and back-off
BOUND_S = 45


class SilentServer:
    """Accepts TCP connections, reads what is sent, never answers."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self.held.append(conn)
            threading.Thread(target=_drain, args=(conn,), daemon=True).start()

    def close(self):
        self.sock.close()
        for conn in self.held:
            conn.close()


def _drain(conn: socket.socket) -> None:
    """Read and discard until the client gives up (the hang)."""
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass


def _read_request(conn: socket.socket) -> bytes | None:
    """One HTTP request (head + Content-Length body), or None when the client closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    found = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    length = int(found.group(1)) if found else 0
    if re.search(rb"(?im)^expect:\s*100-continue", head) and len(body) < length:
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        body += chunk
    # One request per upstream connection: ask both sides to close after the answer.
    head = re.sub(rb"(?im)^(connection|expect):[^\r\n]*\r\n?", b"", head + b"\r\n").rstrip()
    return head + b"\r\nConnection: close\r\n\r\n" + body


class HangingProxy:
    """Passes requests to ``upstream`` except those ``hang(request line)`` picks: those are
    read and never answered."""

    def __init__(self, upstream: str, hang):
        parsed = urlparse(upstream)
        self.upstream = (parsed.hostname, parsed.port)
        self.hang = hang
        self.hung: list[str] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                while True:
                    request = _read_request(conn)
                    if request is None:
                        return
                    line = request.split(b"\r\n", 1)[0].decode("latin-1")
                    if self.hang(line):
                        self.hung.append(line)
                        _drain(conn)
                        return
                    with socket.create_connection(self.upstream) as up:
                        up.sendall(request)
                        while chunk := up.recv(65536):
                            conn.sendall(chunk)
                    return  # the answer said Connection: close
            except OSError:
                return

    def close(self):
        self.sock.close()


def staged_upload(line: str) -> bool:
    """DuckDB writing a staged Parquet file (multipart upload), not the target check's probe."""
    method, path = line.split(" ")[:2]
    return method in ("PUT", "POST") and "/_staging/" in path and "write-probe" not in path


@pytest.fixture
def duck_local(tmp_path) -> Tier:
    tier = Tier("duckdb", "local", tmp_path)
    tier.load(history(), failures())
    return tier


def assert_bounded_refusal(tier: Tier, env: dict, took: float, result) -> str:
    assert result.returncode == 1, result.stderr
    assert took < BOUND_S, f"took {took:.0f} s"
    lines = result.stderr.strip().splitlines()
    failed = [line for line in lines if line.startswith("archive: failed")]
    assert failed == lines[-1:], result.stderr  # progress lines, then one failure line
    assert json.loads(result.stdout.strip().splitlines()[-1])["outcome"] == "failed"
    # the ledger: nothing pruned, nothing archived
    assert tier.count("raw.plant_readings") == len(history())
    assert tier.count("raw.plant_fetch_failures") == len(failures())
    assert_exactly_one_tier(tier, history(), failures())
    return failed[0]


def test_s3_that_accepts_and_never_answers_gives_up_within_the_timeout(duck_local):
    server = SilentServer()
    env = {
        **FAST,
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{server.port}",
        "AWS_ACCESS_KEY_ID": "a",
        "AWS_SECRET_ACCESS_KEY": "b",
        "AWS_REGION": "us-east-1",
        "LNHM_ARCHIVE_URL": "s3://lnhm-archive/x",
    }
    try:
        started = time.monotonic()
        result = duck_local.run(env=env, timeout=300)
        took = time.monotonic() - started
    finally:
        server.close()
    line = assert_bounded_refusal(duck_local, env, took, result)
    assert "did not answer" in line and "LNHM_S3_TIMEOUT" in line, line
    assert server.accepted >= 2  # it was retried (LNHM_S3_RETRIES=1), then given up


def test_s3_that_hangs_mid_run_releases_the_lock_within_the_timeout(tmp_path, s3):
    """Past the checks, under the writer lock, DuckDB's upload hangs: bounded by http_timeout."""
    proxy = HangingProxy(s3.endpoint, staged_upload)
    tier = Tier("duckdb", "s3", tmp_path, s3=s3)
    tier.env["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{proxy.port}"
    tier.load(history(), failures())
    try:
        started = time.monotonic()
        result = tier.run(env=FAST, timeout=600)
        took = time.monotonic() - started
    finally:
        proxy.close()
    assert proxy.hung, "the proxy never saw the staged upload: the test proves nothing"
    line = assert_bounded_refusal(tier, FAST, took, result)
    assert "did not answer" in line and "LNHM_S3_TIMEOUT=2" in line, line
    assert tier.manifest()["days"] == {}
    # The lock is free again: the next run (S3 answering) archives as usual.
    tier.env["AWS_ENDPOINT_URL"] = s3.endpoint
    again = tier.run()
    assert again.returncode == 0, again.stderr
    assert_exactly_one_tier(tier, history(), failures())


def test_s3_calls_are_bounded_by_default():
    """Without the variables: 10 s per attempt, 3 attempts (documented in archive/README.md)."""
    from archive.store import open_store
    from lnhm.settings import from_env

    settings = from_env({"LNHM_ARCHIVE_URL": "s3://bucket/prefix"})
    assert (settings.s3_timeout_s, settings.s3_retries) == (10, 2)
    config = open_store(settings.archive_url, settings).client.meta.config
    assert config.connect_timeout == config.read_timeout == 10
    assert config.retries["total_max_attempts"] == 3
