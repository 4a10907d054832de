"""`make run` is hermetic (issue 10, defect 2): whatever the caller's environment says, the demo
works in its own folder, sends no mail and touches nothing else; and it tells a short story."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from harness.services import ROOT


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file of the checkout (but the venv and git's own) with its mtime and size."""
    files = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in (".venv", ".git")]
        for name in filenames:
            path = Path(dirpath) / name
            try:
                stat = path.lstat()
            except FileNotFoundError:
                continue
            files[str(path.relative_to(root))] = (stat.st_mtime_ns, stat.st_size)
    return files


def test_make_run_is_hermetic_and_short(tmp_path):
    smtp = socket.socket()  # a "real" SMTP server: it must never be connected to
    smtp.bind(("127.0.0.1", 0))
    smtp.listen()
    smtp.setblocking(False)
    elsewhere = tmp_path / "configured"
    hostile = {
        "LNHM_SMTP_HOST": "127.0.0.1",
        "LNHM_SMTP_PORT": str(smtp.getsockname()[1]),
        "LNHM_SMTP_TLS": "none",
        "LNHM_OPERATOR_EMAIL": "real.botanist@lnhm.example",
        "LNHM_DUCKDB_PATH": str(elsewhere / "production.duckdb"),
        "LNHM_ARCHIVE_URL": str(elsewhere / "archive"),
        "LNHM_REPORTS_DIR": str(elsewhere / "live-site"),
        "LNHM_OUTBOX_DIR": str(elsewhere / "outbox"),
        "LNHM_WAREHOUSE": "postgres",
        "PGHOST": "db.invalid",
        "DBT_TARGET_PATH": str(elsewhere / "target"),
        "DLT_DATA_DIR": str(elsewhere / "dlt"),
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    }
    env = {**os.environ, **hostile, "PYTHONDONTWRITEBYTECODE": "1"}
    folder = tmp_path / "demo"
    before = snapshot(ROOT)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.demo",
            "--hours",
            "49",
            "--plants",
            "8",
            "--folder",
            folder,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    try:
        smtp.accept()
        connected = True
    except BlockingIOError:
        connected = False
    smtp.close()
    assert not connected, "the demo talked to the caller's SMTP server"
    assert not elsewhere.exists(), sorted(str(p) for p in elsewhere.rglob("*"))
    assert snapshot(ROOT) == before  # nothing in the checkout changed, not even target/ or logs/

    # its own warehouse, archive, site and dbt artefacts, all in its folder
    assert (folder / "lnhm.duckdb").is_file()
    assert (folder / "archive" / "manifest.json").is_file()
    assert (folder / "reports" / "current" / "index.html").is_file()
    assert (folder / "dbt" / "target" / "run_results.json").is_file()

    # a short story: a line per step, dbt's per-node lines in the log whose path is printed
    lines = result.stdout.strip().splitlines()
    assert len(lines) <= 15, result.stdout
    assert result.stderr.strip() == ""
    assert lines[-2].startswith("Done in ") and f"{folder}/reports/index.html" in lines[-2]
    [dbt_line] = [line for line in lines if "(log: " in line]
    log = Path(dbt_line.split("(log: ")[1].rstrip(")"))
    dbt_output = log.read_text()
    assert "OK created" in dbt_output or "PASS" in dbt_output
    assert not any("OK created" in line or " PASS " in line for line in lines)
