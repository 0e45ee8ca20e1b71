"""SQLite's trust model: a file other users may write has no roles, and simdeck says so."""

from __future__ import annotations

import os
from pathlib import Path

from simdeck.core import db, models


def _new(path: Path) -> None:
    db.open_database(str(path))
    models.create_schema()
    db.database.close()


def test_a_private_file_gets_no_warning(tmp_path: Path) -> None:
    folder = tmp_path / "ops"
    folder.mkdir(mode=0o700)
    _new(folder / "fleet.db")
    assert db.loose_permissions(str(folder / "fleet.db")) is None
    assert db.loose_permissions("postgresql://db.example/simdeck") is None
    assert db.loose_permissions(str(folder / "missing.db")) is None


def test_a_file_the_group_may_write_is_named_with_the_fix(tmp_path: Path) -> None:
    folder = tmp_path / "ops"
    folder.mkdir(mode=0o700)
    path = folder / "fleet.db"
    _new(path)
    os.chmod(path, 0o660)
    warning = db.loose_permissions(str(path))
    assert warning is not None and "\n" not in warning
    assert str(path) in warning and "other users" in warning
    assert f"chmod go-w {path}*" in warning
    os.chmod(path, 0o600)
    assert db.loose_permissions(f"sqlite:///{path}") is None


def test_a_folder_anyone_may_write_lets_them_replace_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    os.chmod(folder, 0o777)
    _new(folder / "fleet.db")
    warning = db.loose_permissions(str(folder / "fleet.db"))
    assert warning is not None and f"its folder {folder.resolve()}" in warning
    os.chmod(folder, 0o1777)  # sticky, as /tmp: others cannot replace the file
    assert db.loose_permissions(str(folder / "fleet.db")) is None
