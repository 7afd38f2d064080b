"""The user's settings: one declaration per key (name, type, default), in one QSettings ini file in
the user's data folder (so tests and portable copies stay separate).

Layout settings (window geometry and dock state) carry LAYOUT_VERSION: when the app's docks change,
an old layout is dropped, and only the layout — theme, scales and the rest are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from PySide6.QtCore import QSettings

from explorer import paths

if TYPE_CHECKING:
    from explorer.store.backups import Retention

T = TypeVar("T")


def app_settings() -> QSettings:
    return QSettings(str(paths.user_data_dir() / "settings.ini"), QSettings.Format.IniFormat)


@dataclass(frozen=True)
class Setting(Generic[T]):
    key: str
    default: T
    kind: type | None  # None: stored as Qt gives it back (byte arrays, lists)

    def get(self, settings: QSettings | None = None) -> T:
        store = settings or app_settings()
        value: Any = store.value(self.key, self.default)
        if self.kind is None or value is None:
            return value
        if self.kind is bool and isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes", "on")  # type: ignore[return-value]
        try:
            return self.kind(value)
        except (TypeError, ValueError):  # a hand-edited or damaged value: the default, not a crash
            return self.default

    def set(self, value: T, settings: QSettings | None = None) -> None:
        store = settings or app_settings()
        store.setValue(self.key, value)
        if settings is None:
            store.sync()


LAYOUT_VERSION = 1
LAYOUT = Setting("version", 0, int)  # the layout version the saved geometry and state were made with
GEOMETRY = Setting[Any]("geometry", None, None)
WINDOW_STATE = Setting[Any]("windowState", None, None)
SELECTION = Setting("selection", "", str)
TIMELINE_RANGE = Setting[Any]("timelineRange", None, None)
THEME = Setting("theme", "system", str)
FILTER_AS_YOU_TYPE = Setting("filterAsYouType", False, bool)
ANALYST_NAME = Setting("analystName", "", str)
UI_SCALE = Setting("uiScale", 1.0, float)
PRESENTATION_SCALE = Setting("presentationScale", 2.0, float)  # twice the desk size: readable from the back
LAST_SERVER = Setting("exchange/last_server", "", str)  # without the password
RECENT_FILES = Setting[Any]("recentFiles", None, None)  # database files opened, newest first
MAX_RECENT = 8
# Backups kept of each database (explorer.store.backups.Retention; File ▸ Backups… changes them).
BACKUPS_KEEP_LAST = Setting("backups/keepLast", 10, int)
BACKUPS_KEEP_DAYS = Setting("backups/keepDays", 7, int)
BACKUPS_KEEP_WEEKS = Setting("backups/keepWeeks", 8, int)


def recent_files() -> list[str]:
    """Database files opened lately that are still there, newest first (File ▸ Open Recent)."""
    import os

    value = RECENT_FILES.get()
    items = [value] if isinstance(value, str) else list(value or [])
    return [p for p in items if isinstance(p, str) and os.path.isfile(p)][:MAX_RECENT]


def remember_file(path: str) -> None:
    import os

    path = os.path.abspath(path)
    RECENT_FILES.set([path, *(p for p in recent_files() if os.path.abspath(p) != path)][:MAX_RECENT])


def forget_recent_files() -> None:
    RECENT_FILES.set([])


def analyst_name() -> str | None:
    """The name this person's edits carry in the history, once they have given it."""
    return ANALYST_NAME.get().strip() or None


def set_analyst_name(name: str) -> None:
    if name.strip() != ANALYST_NAME.get():  # each form save gives it: written (and synced) only when new
        ANALYST_NAME.set(name.strip())


def backup_retention() -> Retention:
    """Which backups are kept after each new one: the last N, one a day, one a week (at least the last)."""
    from explorer.store.backups import Retention

    return Retention(
        last=max(1, BACKUPS_KEEP_LAST.get()),
        days=max(0, BACKUPS_KEEP_DAYS.get()),
        weeks=max(0, BACKUPS_KEEP_WEEKS.get()),
    )


def set_backup_retention(keep: Retention) -> None:
    BACKUPS_KEEP_LAST.set(keep.last)
    BACKUPS_KEEP_DAYS.set(keep.days)
    BACKUPS_KEEP_WEEKS.set(keep.weeks)
