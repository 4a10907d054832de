"""Publishing the report site into an existing folder, a mount point included (reports/publish.py).

Issue 10, defect 1: the ECS reports task mounts EFS at LNHM_REPORTS_DIR, and the job renamed a
side folder into place, which a mount point refuses (EBUSY): botanists never got a site. A real
tmpfs mount stands in for EFS here (CI runs as root), and a static web server serving the
folder checks what readers see while the site is republished.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from harness.services import ROOT, free_port, wait_for_port
from reports import publish


def run_reports(env_extra: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LNHM_", "PG", "AWS_"))}
    env.update(env_extra)
    result = subprocess.run(
        [sys.executable, "-m", "reports"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def data(chain) -> dict[str, str]:
    """The real chain's hot store and archive (tests/chain.py), read only."""
    return {"LNHM_DUCKDB_PATH": str(chain.duckdb_path), "LNHM_ARCHIVE_URL": str(chain.archive)}


@pytest.fixture
def mount_point(tmp_path):
    """A real tmpfs mounted at a fresh folder (standing in for the EFS volume)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; CI runs as root")
    mnt = tmp_path / "reports"
    mnt.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m,mode=0755", "lnhm-test", str(mnt)], check=True
    )
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def builds(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("site-*"))


def test_the_site_is_published_into_a_mount_point_and_switched_atomically(data, mount_point):
    assert os.path.ismount(mount_point)
    env = {**data, "LNHM_REPORTS_DIR": str(mount_point)}
    first = run_reports(env)
    assert os.path.ismount(mount_point)  # the folder itself was never renamed or replaced
    live = os.readlink(mount_point / "current")
    assert live == builds(mount_point)[0] and "/" not in live  # relative: mountable anywhere
    assert (mount_point / "current" / "index.html").is_file()
    assert (mount_point / "current" / "plants" / "1.html").is_file()
    assert "url=current/index.html" in (mount_point / "index.html").read_text()
    assert f"site written to {mount_point}/index.html" in first.stderr

    run_reports(env)
    second = os.readlink(mount_point / "current")
    assert second != live and builds(mount_point) == sorted([live, second])  # previous kept
    run_reports(env)
    third = os.readlink(mount_point / "current")
    assert builds(mount_point) == sorted([second, third])  # older ones go
    leftovers = [p.name for p in mount_point.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def test_a_static_web_server_at_the_folder_serves_whole_sites_while_they_switch(data, mount_point):
    env = {**data, "LNHM_REPORTS_DIR": str(mount_point)}
    run_reports(env)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=mount_point,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port, 30, server)
        status, page = _get(base + "/")
        assert status == 200 and b"url=current/index.html" in page
        assert _get(base + "/current/index.html")[0] == 200

        failures: list[tuple[str, int]] = []
        fetched = 0
        stop = threading.Event()

        def reader() -> None:
            nonlocal fetched
            paths = ["/current/index.html", "/current/style.css", "/current/plants/2.html"]
            while not stop.is_set():
                for path in paths:
                    status, body = _get(base + path)
                    fetched += 1
                    if status != 200 or not body:
                        failures.append((path, status))

        thread = threading.Thread(target=reader)
        thread.start()
        try:
            for _ in range(3):
                run_reports(env)  # republished under the reader's feet
        finally:
            stop.set()
            thread.join()
    finally:
        server.terminate()
        server.wait(10)
    assert fetched > 30
    assert failures == []


def test_the_old_layout_is_replaced_and_other_files_are_left_alone(tmp_path):
    out = tmp_path / "site"
    (out / "plants").mkdir(parents=True)
    (out / "plants" / "1.html").write_text("old page")
    (out / "index.html").write_text("old overview")
    (out / "notes.txt").write_text("the operator's own file")
    killed = out / ".building-20200101T000000000000Z-dead00"
    killed.mkdir()
    old = time.time() - 2 * publish.STALE_BUILD_S
    os.utime(killed, (old, old))
    running = publish.staging_dir(out)  # another run still writing: too young to remove

    staged = publish.staging_dir(out)
    (staged / "index.html").write_text("new overview")
    live = publish.publish(staged, out)
    assert (live / "index.html").read_text() == "new overview"
    assert not (out / "plants").exists()
    assert (out / "notes.txt").read_text() == "the operator's own file"
    assert not killed.exists() and running.exists()
    assert (out / "index.html").read_text() == publish.INDEX
