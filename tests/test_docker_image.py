"""What the container image holds, worked out statically (no Docker engine here): the files the
Dockerfile's COPY lines take from the build context, minus what Dockerfile.dockerignore keeps
out. The image must hold the product and nothing of its harness (issue 10)."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import PurePosixPath

import pytest

from harness.services import ROOT

DEPLOY = ROOT / "deploy"
PRODUCT_PACKAGES = ("lnhm", "ingest", "archive", "reports", "alerts")
DBT_PROJECT = ("models", "seeds", "macros", "snapshots", "analyses", "data_tests")
NEVER = ("tests", "bench", "harness", ".ci")


def context_files() -> list[str]:
    """The build context: the repository's files (tracked or not, minus git-ignored ones)."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sorted({line for line in out.splitlines() if (ROOT / line).is_file()})


def _pattern(glob: str) -> re.Pattern:
    """A .dockerignore pattern (Go filepath.Match plus ``**``) as a regular expression."""
    glob = glob.strip("/")
    regex = ""
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            regex += "(?:.*/)?"
            i += 3
        elif glob.startswith("**", i):
            regex += ".*"
            i += 2
        elif glob[i] == "*":
            regex += "[^/]*"
            i += 1
        elif glob[i] == "?":
            regex += "[^/]"
            i += 1
        else:
            regex += re.escape(glob[i])
            i += 1
    return re.compile(regex)


def ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; a match on a folder covers what is in it."""
    parts = PurePosixPath(path).parts
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    result = False
    for raw in patterns:
        negate = raw.startswith("!")
        regex = _pattern(raw[1:] if negate else raw)
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            result = not negate
    return result


def dockerignore() -> list[str]:
    lines = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def copy_sources() -> list[str]:
    """Sources of every COPY line that copies from the build context."""
    sources = []
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    for line in text.splitlines():
        words = line.split()
        if not words or words[0].upper() not in ("COPY", "ADD"):
            continue
        assert words[0].upper() == "COPY", "ADD can fetch URLs and unpack archives: use COPY"
        args = [w for w in words[1:] if not w.startswith("--")]
        assert not any(w.startswith("--from") for w in words), "no multi-stage copies expected"
        sources += args[:-1]
    return sources


def image_files() -> set[str]:
    sources = copy_sources()
    patterns = dockerignore()
    files = set()
    for path in context_files():
        if ignored(path, patterns):
            continue
        for source in sources:
            source = source.rstrip("/")
            if source in (".", "") or path == source or path.startswith(source + "/"):
                files.add(path)
    return files


def test_the_ignore_rules_behave_like_dockers():
    rules = ["tests", "**/__pycache__", "*.egg-info", "!tests/keep.txt"]
    assert ignored("tests/test_x.py", rules)
    assert ignored("reports/__pycache__/build.cpython-311.pyc", rules)
    assert ignored("lnhm_plants.egg-info/PKG-INFO", rules)
    assert not ignored("tests/keep.txt", rules)
    assert not ignored("reports/tests.py", rules)
    assert not ignored("ingest/poll.py", rules)


def test_the_image_holds_no_tests_bench_or_harness():
    files = image_files()
    assert files, "the Dockerfile copies nothing"
    assert "." not in [s.rstrip("/") for s in copy_sources()], "COPY . would take everything"
    leaked = sorted(f for f in files if f.split("/")[0] in NEVER)
    assert leaked == []
    assert not [f for f in files if re.search(r"simulator|demo\.py$|crash\.py$|conftest", f)]
    # and if a COPY line were widened to the whole context, the ignore file still keeps them out
    everything = [p for p in context_files() if not ignored(p, dockerignore())]
    assert not [p for p in everything if p.split("/")[0] in NEVER]


def test_the_image_holds_the_whole_product():
    files = image_files()
    for name in (
        "Makefile",
        "pyproject.toml",
        "README.md",
        "dbt_project.yml",
        "profiles.yml",
        "selectors.yml",
    ):
        assert name in files, name
    for folder in (*PRODUCT_PACKAGES, *DBT_PROJECT):
        tracked = [f for f in context_files() if f.startswith(folder + "/")]
        assert tracked, folder
        missing = [
            f for f in tracked if "__pycache__" not in f and f not in files and f.endswith(".py")
        ]
        missing += [f for f in tracked if f.endswith((".sql", ".yml", ".csv")) and f not in files]
        assert missing == [], folder
    # the report templates and static files, the alert templates
    assert any(f.startswith("reports/templates/") for f in files)
    assert any(f.startswith("reports/static/") for f in files)
    assert any(f.startswith("alerts/templates/") for f in files)


def test_every_module_the_image_imports_is_in_the_image():
    files = image_files()
    folders = {f.split("/")[0] for f in files if "/" in f}
    project = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    missing = []
    for path in sorted(f for f in files if f.endswith(".py")):
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top in project and top not in folders:
                    missing.append(f"{path} imports {name}")
    assert missing == []


def _scheduled_modules() -> set[str]:
    """The modules behind every target cron and ECS run (`$(call job,<module> ...)`)."""
    text = (ROOT / "Makefile").read_text()
    lines = (DEPLOY / "crontab").read_text().splitlines()
    crontab = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    targets = set(re.findall(r"\bmake\s+(?:-\S+\s+)*([A-Za-z][\w-]*)", crontab))
    modules = set()
    for target in targets:
        recipe = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n)+)", text, re.M).group(1)
        modules.update(re.findall(r"\$\(call job,([\w.]+)", recipe))
    return modules


def test_every_scheduled_job_runs_from_the_image():
    files = image_files()
    modules = _scheduled_modules()
    assert {"ingest", "archive", "reports", "alerts", "lnhm.transform"} <= modules
    for module in modules:
        path = module.replace(".", "/")
        assert f"{path}.py" in files or f"{path}/__main__.py" in files, module


@pytest.mark.parametrize("target", ["run", "simulate", "backfill"])
def test_harness_targets_say_clearly_that_the_image_has_no_harness(target, tmp_path):
    """In the image `make run` has no harness/: one line instead of a Python traceback."""
    (tmp_path / "Makefile").write_text((ROOT / "Makefile").read_text())
    (tmp_path / ".venv").mkdir()
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / ".venv" / ".installed").write_text("")
    result = subprocess.run(
        ["make", "-s", target], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "needs the checkout's harness/ (not in the image)" in result.stderr
    assert "Traceback" not in result.stderr
