"""Opening a bad database file changes nothing: for each case the whole folder is the same byte for
byte (names and SHA-256) after the store, the app and `explorer export` have tried it, and the person
got a clear message, never a traceback (issue 20, part 1)."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from explorer.commands import run_command
from explorer.store import (
    CorruptDatabaseError,
    DatabaseLockedError,
    EmptyFileError,
    NewerSchemaError,
    NotADatabaseError,
    StoreError,
    open_store,
)

ROOT = Path(__file__).resolve().parent.parent


def snapshot(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def wal_at_rest(path: Path) -> None:
    """As files were left before this version: in WAL mode, closed cleanly (no -wal beside it)."""
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode = WAL").fetchone() == ("wal",)
    conn.close()
    assert path.read_bytes()[18:20] == b"\x02\x02" and not Path(f"{path}-wal").exists()


def damage_header(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[16:24] = b"\xff" * 8  # page size, format versions: SQLite cannot read it
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def newer_schema(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    conn.commit()
    conn.close()


@dataclass
class Case:
    name: str
    prepare: Callable[[Path], None]
    refused: type[StoreError] | None  # None: it opens (read-only), and still nothing changes
    read_only: bool = False  # open with --read-only
    wal: bool = False  # the file was left in WAL mode by an earlier version


CASES = [
    Case("damaged header", damage_header, NotADatabaseError),
    Case("damaged header, WAL file", damage_header, NotADatabaseError, wal=True),
    Case("truncated", truncate, CorruptDatabaseError),
    Case("truncated, WAL file", truncate, CorruptDatabaseError, wal=True),
    Case("truncated, --read-only", truncate, CorruptDatabaseError, read_only=True, wal=True),
    Case("zero bytes", lambda p: p.write_bytes(b""), EmptyFileError),
    Case("zero bytes, --read-only", lambda p: p.write_bytes(b""), EmptyFileError, read_only=True),
    Case("newer schema", newer_schema, NewerSchemaError),
    Case("newer schema, WAL file", newer_schema, NewerSchemaError, wal=True),
    Case("locked by another writer", lambda p: None, DatabaseLockedError),
    Case("read-only file", lambda p: p.chmod(0o444), None),
    Case("read-only folder", lambda p: p.parent.chmod(0o555), None),
    Case("read-only folder, WAL file", lambda p: p.parent.chmod(0o555), None, wal=True),
    Case("--read-only", lambda p: None, None, read_only=True),
    Case("--read-only, WAL file", lambda p: None, None, read_only=True, wal=True),
]


def prepared(case: Case, demo: Path, folder: Path) -> Path:
    folder.mkdir()
    path = folder / "partnership.sqlite"
    shutil.copyfile(demo, path)
    if case.wal:
        wal_at_rest(path)
    case.prepare(path)
    return path


@contextmanager
def locked_if_asked(case: Case, path: Path) -> Iterator[None]:
    """Another program holding the write lock. (Nothing in this process may open the file
    meanwhile, not even to hash it: closing any handle on it drops the process's locks.)"""
    if not case.name.startswith("locked"):
        yield
        return
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        locker.execute("ROLLBACK")
        locker.close()


def honour_mode_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Running as root, chmod does not stop writing: decide by the mode bits, as for anybody else."""
    if os.geteuid() == 0:

        def writable(path: Path) -> bool:
            target = path if path.exists() else path.parent
            return bool(target.stat().st_mode & stat.S_IWUSR and path.parent.stat().st_mode & stat.S_IWUSR)

        monkeypatch.setattr("explorer.store.database.is_writable", writable)


# As root, chmod does not stop writing: the app decides by the mode bits, as for anybody else.
AS_ANYBODY = """
import os, stat
from explorer.store import database
def writable(path):
    target = path if path.exists() else path.parent
    return bool(target.stat().st_mode & stat.S_IWUSR and path.parent.stat().st_mode & stat.S_IWUSR)
if os.geteuid() == 0:
    database.is_writable = writable
"""


def run_app(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT), "EXPLORER_DATA_DIR": str(data_dir)}
    code = AS_ANYBODY + "import sys; from explorer.app import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_opening_a_bad_file_changes_nothing_in_its_folder_and_says_why(
    built_demo: Path, tmp_path: Path, user_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("explorer.store.database.BUSY_TIMEOUT_MS", 300)
    honour_mode_bits(monkeypatch)
    problems: list[str] = []
    tried = changed = 0
    for n, case in enumerate(CASES):
        path = prepared(case, built_demo, tmp_path / f"case{n}")
        before = snapshot(path.parent)
        tried += 1
        with locked_if_asked(case, path):
            # 1. The app (`explorer --db FILE`, offscreen: its message goes to stderr).
            shot = tmp_path / f"window{n}.png"
            args = ["--db", str(path), "--screenshot", str(shot), "--size", "800x500"]
            done = run_app([*args, "--read-only"] if case.read_only else args, user_data_dir)
            if "Traceback" in done.stderr or (case.refused is None) != (done.returncode == 0):
                problems.append(f"{case.name}: the app exited {done.returncode}: {done.stderr[-600:]}")
            if case.refused is not None and case.refused.title not in done.stderr:
                problems.append(f"{case.name}: the app did not say {case.refused.title!r}: {done.stderr[-300:]}")
            # 2. The store, as every part of the app opens a file.
            try:
                store = open_store(path, read_only=case.read_only)
            except StoreError as exc:
                if case.refused is None or not isinstance(exc, case.refused):
                    problems.append(f"{case.name}: refused with {type(exc).__name__}: {exc.message}")
                elif "not been changed" not in exc.message and not isinstance(exc, DatabaseLockedError):
                    problems.append(f"{case.name}: the message does not say the file is unchanged: {exc.message}")
            else:
                try:
                    if case.refused is not None:
                        problems.append(f"{case.name}: opened, expected {case.refused.__name__}")
                    elif not store.read_only or "read-only" not in store.read_only_reason:
                        problems.append(f"{case.name}: opened without saying it is read-only")
                    elif not store.sector_tree():
                        problems.append(f"{case.name}: opened but reads nothing")
                finally:
                    store.close()
            # 3. `explorer export` reads it and writes only the export (outside the folder).
            out = tmp_path / f"export{n}.json"
            code = run_command(["export", "--db", str(path), str(out)])
            if code != (0 if case.refused is None else 2):
                problems.append(f"{case.name}: explorer export exited {code}")
        for folder in (path.parent, path):
            folder.chmod(0o755 if folder.is_dir() else 0o644)
        after = snapshot(path.parent)
        if after != before:
            changed += 1
            problems.append(f"{case.name}: the folder changed: {sorted(before)} -> {sorted(after)}")
    print(f"\nbad-file cases: {tried} tried (store, explorer export, the app), {changed} with files changed")
    assert not problems, "\n".join(problems)
    assert tried == len(CASES) >= 12


def test_an_empty_file_is_set_up_only_when_the_person_says_yes(
    qtbot, window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QMessageBox

    (tmp_path / "placeholder").mkdir()
    path = tmp_path / "placeholder" / "new.sqlite"
    path.write_bytes(b"")
    asked: list[str] = []

    def answer(reply: QMessageBox.StandardButton) -> Callable[..., QMessageBox.StandardButton]:
        def question(_parent: object, _title: str, text: str, *_args: object) -> QMessageBox.StandardButton:
            asked.append(text)
            return reply

        return question

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))
    before = window.state.store.path
    assert not window.open_path(str(path))
    assert "empty" in asked[-1] and path.read_bytes() == b"" and os.listdir(path.parent) == ["new.sqlite"]
    assert window.state.store.path == before
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    assert window.open_path(str(path))
    assert window.state.store.path == path and path.stat().st_size > 0
    assert window.state.store.sector_tree() == []  # a new, empty database


def test_opening_for_writing_changes_nothing_until_the_first_save(demo_path: Path) -> None:
    before = snapshot(demo_path.parent)
    store = open_store(demo_path)
    assert not store.read_only and store.sector_tree()
    assert snapshot(demo_path.parent) == before  # no -wal/-shm for an open that only reads
    store.create("sector", {"name": "Shipbuilding"})
    assert Path(f"{demo_path}-wal").exists()  # the first write switched the file to WAL
    store.close()
    assert sorted(snapshot(demo_path.parent)) == ["demo.sqlite"]  # back in rollback mode at rest
    assert demo_path.read_bytes()[18:20] == b"\x01\x01"
    reader = open_store(demo_path, read_only=True)
    assert any(h.title == "Shipbuilding" for h in reader.search("Shipbuilding"))
    reader.close()
    assert sorted(snapshot(demo_path.parent)) == ["demo.sqlite"]


def test_copying_or_reopening_the_open_file_keeps_its_readers_locks(demo_path: Path, tmp_path: Path) -> None:
    """A copy of the database the app has open (explorer export --format sqlite, a backup) or opening it
    again does not
    read its header outside SQLite: closing that handle would drop the process's locks on the file,
    and another program could then write under a read in progress."""
    import sqlalchemy as sa

    store = open_store(demo_path)  # in rollback mode: a reader holds a lock on the file itself
    writer = (
        "import sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], timeout=0.3)\n"
        "try:\n"
        "    c.execute(\"UPDATE meta SET value = value WHERE key = 'demo'\"); c.commit(); print('wrote')\n"
        "except sqlite3.OperationalError as exc:\n"
        "    print(exc)\n"
    )
    try:
        with store.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM deal")).scalar()  # a read in progress
            store.export(tmp_path / "copy.sqlite", fmt="sqlite")
            open_store(demo_path, read_only=True).close()  # opening it again (File ▸ Open Recent) too
            other = subprocess.run(
                [sys.executable, "-c", writer, str(demo_path)], capture_output=True, text=True, timeout=60, check=False
            )
            assert other.stdout.strip() == "database is locked", other.stdout + other.stderr
    finally:
        store.close()
    assert open_store(tmp_path / "copy.sqlite", read_only=True).sector_tree()
