"""Backups of SQLite databases in the user's data folder: made, listed and restored.

A backup is written with SQLite's online backup API (a consistent copy even while the app has
the file open) before every import, merge, restore and schema upgrade. Restoring copies the
backup back the same way, after checking it and after backing up what is there now, so a
restore can itself be undone. No Qt here.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from explorer import paths
from explorer.store import migrate
from explorer.store.database import backup_sqlite, inspect_sqlite_file
from explorer.store.errors import NewerSchemaError, NotADatabaseError, StoreError

# backup_sqlite names files <database>-<YYYYmmdd-HHMMSS>-<reason>[-n].<suffix>
_NAME = re.compile(r"^(?P<db>.+)-(?P<stamp>\d{8}-\d{6})-(?P<reason>[A-Za-z0-9_.-]+?)(?:-(?P<n>\d+))?$")
REASON_TEXT = {
    "before-import": "before an import",
    "before-merge": "before a merge",
    "before-restore": "before restoring a backup",
    "manual": "made by hand",
}


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    database: str  # the backed-up file's name without suffix
    made: dt.datetime
    reason: str
    size: int

    def describe(self) -> str:
        reason = REASON_TEXT.get(self.reason)
        if reason is None and self.reason.startswith("before-upgrade"):
            reason = "before a schema upgrade"
        return reason or self.reason


def make_backup(database: Path, reason: str, folder: Path | None = None) -> Path:
    return backup_sqlite(database, folder or paths.backup_dir(), reason)


def list_backups(database: Path | None = None, folder: Path | None = None) -> list[BackupInfo]:
    """Backups in the data folder, newest first (only those of ``database`` when given)."""
    folder = folder or paths.backup_dir()
    out: list[BackupInfo] = []
    for path in folder.iterdir() if folder.is_dir() else []:
        if not path.is_file() or path.name.startswith(".") or path.name.endswith(("-wal", "-shm", "-journal")):
            continue
        match = _NAME.match(path.stem)
        if match is None:
            continue
        if database is not None and match["db"] != database.stem:
            continue
        made = dt.datetime.strptime(match["stamp"], "%Y%m%d-%H%M%S")
        out.append(BackupInfo(path, match["db"], made, match["reason"], path.stat().st_size))
    out.sort(key=lambda b: (b.made, b.path.stat().st_mtime_ns), reverse=True)
    return out


def check_backup(backup: Path) -> None:
    """Refuse a backup that is damaged, not ours, or made by a newer version."""
    state = inspect_sqlite_file(backup)  # raises a clear StoreError if damaged or not a database
    if state.foreign_tables or state.empty:
        raise NotADatabaseError(f"{backup.name} is not a Partnership Explorer backup.")
    if state.revision is not None and not migrate.is_known(state.revision):
        raise NewerSchemaError(f"{backup.name} was made by a newer version of Partnership Explorer.")


def restore_backup(backup: Path, database: Path, folder: Path | None = None) -> Path:
    """Put ``backup`` back into ``database``; returns the backup of what was there before.

    The copy goes through the backup API into the live file: it takes the database's write lock
    and replaces every page in one step, so other connections see the old or the new database,
    never a mix. Connections of the app should be reopened afterwards.
    """
    check_backup(backup)
    safety = make_backup(database, "before-restore", folder) if database.exists() else None
    src = sqlite3.connect(f"file:{backup.resolve()}?mode=ro", uri=True)
    try:
        dest = sqlite3.connect(str(database), timeout=5)
        try:
            src.backup(dest)
            rows = dest.execute("PRAGMA integrity_check").fetchall()
        finally:
            dest.close()
    except sqlite3.Error as exc:
        raise StoreError(
            f"The backup could not be restored ({exc}). The database was not changed.", detail=str(exc)
        ) from exc
    finally:
        src.close()
    if rows != [("ok",)]:
        raise StoreError(
            "The restored database failed its integrity check; restore the backup made just before "
            f"({safety.name if safety else 'none'})."
        )
    return safety or backup
