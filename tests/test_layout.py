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
