"""The house's contracts: core never imports the console, the console never touches the
database but through core; every core module is typed."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "core"
TUI = ROOT / "tui"

def _imports(path: Path) -> list[str]:
    """Every module ``path`` imports by absolute name (``import x``, ``from x import y``)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            if node.module == "simdeck.core":
                names += [f"simdeck.core.{a.name}" for a in node.names]
    return names


def _core_modules() -> list[Path]:
    return sorted(CORE.rglob("*.py"))


def test_core_modules_never_import_textual_or_tui() -> None:
    offenders = [
        f"{path.relative_to(CORE)}: {n}"
        for path in _core_modules()
        for n in _imports(path)
        if n.split(".")[0] in ("textual", "rich") or n.startswith("simdeck.tui")
    ]
    assert offenders == []


def test_console_modules_never_import_peewee_or_the_tables() -> None:
    offenders = [
        f"{path.relative_to(TUI)}: {n}"
        for path in sorted(TUI.rglob("*.py"))
        for n in _imports(path)
        if n.split(".")[0] in ("peewee", "playhouse", "sqlite3", "psycopg")
        or n.startswith("simdeck.core.models")
    ]
    assert offenders == []


def test_importing_all_of_core_loads_no_console_module() -> None:
    modules = [
        ".".join(p.relative_to(CORE).with_suffix("").parts).removesuffix(".__init__")
        for p in _core_modules() if p.name != "__init__.py" or p.parent != CORE
    ]
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


def test_every_package_folder_is_in_the_wheel() -> None:
    """A folder with an ``__init__.py`` that pyproject does not list is missing from a
    non-editable install (``pip install .``): the command line would fail to import."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    folders = {
        "simdeck." + ".".join(init.parent.relative_to(ROOT).parts)
        for top in (CORE, TUI)
        for init in top.rglob("__init__.py")
    }
    assert folders - listed == set()
