"""Backups of SQLite databases in the user's data folder: made, listed and restored.

A backup is written with SQLite's online backup API (a consistent copy even while the app has
the file open) before every import, merge, restore and schema upgrade. Restoring copies the
backup back the same way, after checking it and after backing up what is there now, so a
restore can itself be undone. After each new backup the older ones are pruned (Retention): the
last few are kept, and one a day and one a week further back. No Qt here.
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


@dataclass(frozen=True)
class Retention:
    """Which backups of a database are kept: the ``last`` newest, plus the newest of each of the
    ``days`` most recent days and of each of the ``weeks`` most recent (ISO) weeks that have one."""

    last: int = 10
    days: int = 7
    weeks: int = 8

    def describe(self) -> str:
        return f"the last {self.last}, one a day for {self.days} days and one a week for {self.weeks} weeks"


def _day(made: dt.datetime) -> object:
    return made.date()


def _week(made: dt.datetime) -> object:
    return made.isocalendar()[:2]  # (ISO year, ISO week)


def to_keep(backups: list[BackupInfo], keep: Retention) -> set[Path]:
    """The backups ``keep`` keeps (of one database; any order given)."""
    newest_first = sorted(backups, key=lambda b: b.made, reverse=True)
    kept = {b.path for b in newest_first[: max(1, keep.last)]}  # never the one just made
    for limit, period in ((keep.days, _day), (keep.weeks, _week)):
        seen: set[object] = set()
        for b in newest_first:
            key = period(b.made)
            if key not in seen and len(seen) < limit:
                seen.add(key)
                kept.add(b.path)  # the newest of its day / week
    return kept


def prune(database: Path, keep: Retention, folder: Path | None = None) -> list[Path]:
    """Delete the backups of ``database`` that ``keep`` does not keep; returns what was deleted."""
    found = list_backups(database, folder)
    kept = to_keep(found, keep)
    removed = []
    for b in found:
        if b.path not in kept:
            try:
                b.path.unlink()
            except OSError:  # in use or protected: tried again after the next backup
                continue
            removed.append(b.path)
    return removed


def make_backup(database: Path, reason: str, folder: Path | None = None, keep: Retention | None = Retention()) -> Path:
    """Back up ``database``, then prune its older backups (unless ``keep`` is None)."""
    made = backup_sqlite(database, folder or paths.backup_dir(), reason)
    if keep is not None:
        prune(database, keep, folder)
    return made


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
    # Not pruned now: that could delete the backup being restored. The next backup prunes.
    safety = make_backup(database, "before-restore", folder, keep=None) if database.exists() else None
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
