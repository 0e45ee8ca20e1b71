"""Damaged or foreign files, refused in core with one line and exit 2, never a traceback;
a file that is not simdeck's is left exactly as it was.

Each case runs the command line (CliRunner, or a subprocess where the environment of the
process is what is tested: the umask, a missing driver)."""

from __future__ import annotations

import hashlib
import os
import pwd
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from simdeck.core import auth, db, store
from simdeck.core.demo import build_demo
from simdeck.tui import cli

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(bool(os.environ.get("SIMDECK_TEST_PG")),
                                reason="SQLite files as such")


@pytest.fixture(autouse=True)
def as_admin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "os_user", lambda: "admin")


def _cli(path: str | Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.main, ["--db", str(path), *args])
    assert "Traceback" not in result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stderr


def _fingerprint(path: Path) -> tuple[str, int, list[str]]:
    """The file's bytes (hash), its mtime and the files next to it."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest, path.stat().st_mtime_ns, sorted(p.name for p in path.parent.iterdir())


def _simdeck_file(tmp_path: Path, endpoints: int = 3000, operator: str = "admin") -> Path:
    path = tmp_path / "fleet.db"
    db.open_database(str(path))
    build_demo(endpoints, seed=2, operator=operator)
    db.database.close()
    with sqlite3.connect(path) as conn:  # everything into the main file, none in the WAL
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode = delete")
    return path


def test_corrupt_pages_are_one_line_and_exit_2(tmp_path: Path) -> None:
    path = _simdeck_file(tmp_path, operator=pwd.getpwuid(os.getuid()).pw_name)
    with sqlite3.connect(path) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        (root,) = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'endpoint'").fetchone()
    size = path.stat().st_size
    assert 1 < root < size // page_size  # a page in the middle of the file
    with path.open("r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(b"\xde\xad\xbe\xef" * (page_size // 4))

    out = subprocess.run([sys.executable, "-m", "simdeck.tui.cli", "--db", str(path),
                          "endpoints", "list"], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "SIMDECK_DB": ""}, timeout=60)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    (line,) = out.stderr.strip().splitlines()
    assert line.startswith("simdeck: the database") and "is damaged" in line
    assert "integrity_check" in line


def test_a_garbled_header_is_not_a_database(tmp_path: Path) -> None:
    path = _simdeck_file(tmp_path, endpoints=50)
    with path.open("r+b") as f:
        f.write(b"this is no sqlite header!!")
    before = _fingerprint(path)
    code, err = _cli(path, "endpoints", "list")
    assert code == 2 and "is not a SQLite database" in err and "left untouched" in err
    assert _fingerprint(path) == before


@pytest.mark.parametrize("damage, words", [
    ("DELETE FROM setting WHERE key = 'schema_version'", "schema version is missing"),
    ("UPDATE setting SET value = 'two' WHERE key = 'schema_version'",
     "schema version is not a number"),
    ("UPDATE setting SET value = '' WHERE key = 'schema_version'",
     "schema version is not a number"),
    ("DROP TABLE setting", "is not a simdeck database"),
])
def test_a_missing_or_garbled_schema_version(tmp_path: Path, damage: str, words: str) -> None:
    path = _simdeck_file(tmp_path, endpoints=50)
    with sqlite3.connect(path) as conn:
        conn.execute(damage)
    before = _fingerprint(path)
    for read_only in ((), ("--read-only",)):
        code, err = _cli(path, *read_only, "endpoints", "list")
        assert code == 2 and words in err, err
        assert len(err.strip().splitlines()) == 1
    assert _fingerprint(path) == before


def test_another_applications_file_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "crm.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customer (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO customer (name) VALUES ('Acme')")
    before = _fingerprint(path)

    for args in (("users", "list"), ("users", "add", "admin", "--role", "admin"),
                 ("--read-only", "endpoints", "list")):
        code, err = _cli(path, *args)
        assert code == 2, err
        assert "is not a simdeck database (it holds other tables: customer)" in err

    assert _fingerprint(path) == before  # no -wal, no -shm, not a byte changed
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        tables = [n for (n,) in conn.execute("SELECT name FROM sqlite_master")]
    assert tables == ["customer"]  # no operator table: nobody was made admin


def test_no_database_is_created_through_a_dangling_link(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "planted.db"
    target.parent.mkdir()
    link = tmp_path / "simdeck.db"
    link.symlink_to(target)
    code, err = _cli(link, "users", "list")
    assert code == 2
    assert f"{link} is a symbolic link to {target}, which does not exist" in err
    assert not target.exists() and link.is_symlink()
    assert os.listdir(target.parent) == []


def test_a_link_to_an_existing_database_still_works(tmp_path: Path) -> None:
    real = _simdeck_file(tmp_path, endpoints=20)
    link = tmp_path / "link.db"
    link.symlink_to(real)
    code, err = _cli(link, "endpoints", "list", "--limit", "1")
    assert code == 0, err


def test_the_data_directory_is_0700_whatever_the_umask(tmp_path: Path) -> None:
    data_home = tmp_path / "xdg"
    env = {k: v for k, v in os.environ.items() if k != "SIMDECK_DB"}
    env["XDG_DATA_HOME"] = str(data_home)
    out = subprocess.run(
        [sys.executable, "-m", "simdeck.tui.cli", "users", "list", "--format", "json"],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=60,
        preexec_fn=lambda: os.umask(0),
    )
    assert out.returncode == 0, out.stderr
    folder = data_home / "simdeck"
    assert (folder / "simdeck.db").exists()
    for created in (data_home, folder):
        assert stat.S_IMODE(created.stat().st_mode) == 0o700, created
    assert stat.S_IMODE((folder / "simdeck.db").stat().st_mode) == 0o600


def test_read_only_on_media_that_cannot_be_written_opens_immutable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The tests run as root, for whom chmod does not stop a write and a read-only mount
    # cannot be made here: what this proves is the URI chosen when the file cannot be
    # written (os.access says so) and that SQLite reads the database through it, WAL
    # files included, without creating a -shm file.
    path = _simdeck_file(tmp_path, endpoints=40)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode = wal")
    real_access = os.access

    def access(p: object, mode: int, **kw: object) -> bool:
        return False if mode & os.W_OK else real_access(p, mode)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "access", access)
    before = _fingerprint(path)
    store.open_store(str(path), read_only=True)
    try:
        uri = db.database.obj.database
        assert uri.startswith("file:") and uri.endswith("?mode=ro&immutable=1")
        assert db.database.execute_sql("SELECT count(*) FROM endpoint").fetchone()[0] == 40
    finally:
        db.database.close()
    code, err = _cli(path, "--read-only", "endpoints", "list", "--format", "json")
    assert code == 0, err
    assert _fingerprint(path) == before

    monkeypatch.setattr(os, "access", real_access)
    store.open_store(str(path), read_only=True)
    try:
        assert db.database.obj.database.endswith("?mode=ro")  # writable: no immutable
    finally:
        db.database.close()


def test_postgres_without_the_driver_names_the_extra(tmp_path: Path) -> None:
    script = (
        "import sys; sys.modules['psycopg'] = None\n"
        "from simdeck.tui.cli import main\n"
        "main(['--db', 'postgresql://ops:s3cret@db.example/simdeck', 'users', 'list'])\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr and "s3cret" not in out.stderr
    (line,) = out.stderr.strip().splitlines()
    assert "install simdeck[postgres]" in line
