"""The house's contracts: core never imports the console; every core module is typed."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "core"


def test_core_modules_never_import_textual_or_tui() -> None:
    offenders = []
    for path in sorted(CORE.glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}" for n in names
                if n.split(".")[0] in ("textual", "rich") or n.startswith("simdeck.tui")
            ]
    assert offenders == []


def test_importing_all_of_core_loads_no_console_module() -> None:
    modules = [p.stem for p in CORE.glob("*.py") if p.stem != "__init__"]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module('simdeck.core.' + m)\n"
        "print(sorted(m for m in sys.modules\n"
        "             if m.split('.')[0] == 'textual' or m.startswith('simdeck.tui')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=CORE.parent, check=True)
    assert out.stdout.strip() == "[]"


def test_the_lifecycle_page_is_the_table_in_the_code() -> None:
    from simdeck.core.lifecycle import markdown

    page = (CORE.parent / "docs" / "lifecycle.md").read_text()
    assert page == markdown(), "run: python -m simdeck.core.lifecycle > docs/lifecycle.md"
