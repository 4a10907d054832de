"""The product stands apart from its harness: no product module imports the harness or tests."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("ingest", "archive", "reports", "alerts", "lnhm")
HARNESS = ("harness", "tests", "bench")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_product_module_imports_the_harness():
    offenders = []
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in imported_modules(path):
                if name.split(".")[0] in HARNESS:
                    offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_the_check_sees_an_import_of_the_harness(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from harness.simulator.model import PlantsSimulator\n")
    assert "harness.simulator.model" in imported_modules(sample)


def environment_reads(path: Path) -> list[str]:
    """Names of ``LNHM_*`` variables that ``path`` reads from the environment itself."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func) in (
            "os.environ.get",
            "os.getenv",
            "environ.get",
            "getenv",
        ):
            args = node.args
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) in (
            "os.environ",
            "environ",
        ):
            args = [node.slice]
        else:
            continue
        for arg in args[:1]:
            text = arg.value if isinstance(arg, ast.Constant) else ast.unparse(arg)
            if "LNHM_" in str(text) or "CRASH" in str(text):
                names.append(str(text))
    return names


def test_one_settings_module_reads_the_jobs_variables():
    """Only lnhm/settings.py reads LNHM_* variables (no test hook such as a crash variable)."""
    offenders = []
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.relative_to(ROOT).as_posix() == "lnhm/settings.py":
                continue
            offenders += [f"{path.relative_to(ROOT)} reads {n}" for n in environment_reads(path)]
    assert offenders == []
    assert not (ROOT / "alerts" / "config.py").exists()


def test_the_settings_check_sees_an_environment_read(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os\nCRASH_ENV = 'LNHM_ARCHIVE_CRASH_AT'\n"
        "a = os.environ.get('LNHM_X')\nb = os.environ['LNHM_Y']\nc = os.environ.get(CRASH_ENV)\n"
    )
    assert environment_reads(sample) == ["LNHM_X", "LNHM_Y", "CRASH_ENV"]
