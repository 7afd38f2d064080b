"""File-menu actions for teams and exchange (connect, import, export, merge, backups)."""

from __future__ import annotations

from typing import Any


def install(window: Any, file_menu: Any) -> None:
    """Adds the exchange actions to the window's File menu (none yet)."""
