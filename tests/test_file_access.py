"""The SQLite file of a shared ops host: readable by its owner only, with its WAL files."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_database_and_its_wal_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "ops" / "fleet.db"
    # A shared host's usual umask would leave a new file readable by everyone.
    script = (
        "import os, sys; os.umask(0o022); from simdeck.tui.cli import main;"
        "main(['--db', sys.argv[1], 'demo', '--endpoints', '20', '--no-tui'])"
    )
    done = subprocess.run([sys.executable, "-c", script, str(path)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert mode(path) == 0o600
    # The write-ahead log and its index, while a connection holds them open.
    held = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]);"
         "c.execute('pragma journal_mode=wal'); c.execute('create table if not exists probe(x)');"
         "c.commit(); input()", str(path)],
        stdin=subprocess.PIPE, text=True,
    )
    try:
        for _ in range(100):
            if (tmp_path / "ops" / "fleet.db-wal").exists():
                break
            subprocess.run(["sleep", "0.05"])
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            assert side.exists() and mode(side) & 0o077 == 0, (suffix, oct(mode(side)))
    finally:
        held.communicate("\n", timeout=10)
