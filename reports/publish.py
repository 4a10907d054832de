"""Publish the report site into ``LNHM_REPORTS_DIR``, atomically for readers.

The folder itself is never renamed or replaced, so it may be a mount point (EFS on ECS, a
tmpfs, a web server's document root) or any existing folder. Inside it:

    index.html       a small page that sends browsers on to current/index.html
    current          a relative symlink to the live build, switched by one rename(2)
    site-<stamp>/    complete builds; the live one and the one before it are kept, so a reader
                     half-way through the previous site still finds its pages and styles
    .building-<stamp>/  a build being written (a killed run's is removed after an hour)

A static web server serving the folder answers ``/`` with index.html and every page under
``/current/...`` (stable addresses: bookmark those); opened from disk it works the same way.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

KEEP_BUILDS = 2
STALE_BUILD_S = 3600
# what the site looked like when it was written straight into the folder (before 2026-12)
LEGACY_ENTRIES = (
    "plants",
    "botanists",
    "charts",
    "archive.html",
    "data-quality.html",
    "style.css",
    "plant-placeholder.svg",
)
INDEX = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<meta http-equiv="refresh" content="0; url=current/index.html">
<link rel="icon" href="data:,">
<title>LNHM plant reports</title>
</head>
<body>
<p><a href="current/index.html">LNHM plant reports</a></p>
</body>
</html>
"""


def staging_dir(out: Path) -> Path:
    """A new, empty folder inside ``out`` to write one build into."""
    out.mkdir(parents=True, exist_ok=True)
    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(3)}"
    path = out / f".building-{stamp}"
    path.mkdir()
    return path


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)


def _tidy(out: Path, live: Path) -> None:
    """Drop builds beyond the newest KEEP_BUILDS, stale partial builds and the old layout."""
    builds = sorted(p for p in out.glob("site-*") if p.is_dir() and not p.is_symlink())
    for old in [b for b in builds if b != live][: max(0, len(builds) - KEEP_BUILDS)]:
        _remove(old)
    now = time.time()
    for partial in out.glob(".building-*"):
        with contextlib.suppress(OSError):
            if now - partial.stat().st_mtime > STALE_BUILD_S:
                _remove(partial)
    for name in LEGACY_ENTRIES:
        _remove(out / name)


def publish(staged: Path, out: Path) -> Path:
    """Make the finished build in ``staged`` (from ``staging_dir``) the live site.

    Returns the live site's path (``out/current``).
    """
    site = out / staged.name.replace(".building-", "site-", 1)
    os.rename(staged, site)  # both inside ``out``: no rename of ``out`` itself
    link = out / f".current-{secrets.token_hex(4)}"
    os.symlink(site.name, link)  # relative: the folder may be mounted elsewhere by a web server
    os.replace(link, out / "current")  # the switch: readers see the old site or the new one
    if not (out / "index.html").is_file() or (out / "index.html").read_text() != INDEX:
        _write_atomically(out / "index.html", INDEX)
    _tidy(out, site)
    return out / "current"
