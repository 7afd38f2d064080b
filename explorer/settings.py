"""The user's settings (a QSettings ini file in the user's data folder) and the analyst's name."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from explorer import paths


def app_settings() -> QSettings:
    """Settings live in the user's data folder (so tests and portable copies stay separate)."""
    return QSettings(str(paths.user_data_dir() / "settings.ini"), QSettings.Format.IniFormat)


def analyst_name() -> str | None:
    """The name this person's edits carry in the history, once they have given it."""
    name = app_settings().value("analystName", "", str).strip()
    return name or None


def set_analyst_name(name: str) -> None:
    settings = app_settings()
    settings.setValue("analystName", name.strip())
    settings.sync()
