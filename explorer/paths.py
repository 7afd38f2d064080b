"""Where the app keeps its files: the user's data folder, never its own install folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "PartnershipExplorer"
APP_AUTHOR = "PartnershipExplorer"


def user_data_dir() -> Path:
    override = os.environ.get("EXPLORER_DATA_DIR")
    if override:
        path = Path(override)
    else:  # imported here: with the folder set (tests, portable copies) start-up skips it
        import platformdirs

        path = Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_dir() -> Path:
    path = user_data_dir() / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def backup_dir() -> Path:
    path = user_data_dir() / "backups"
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_database_path() -> Path:
    return user_data_dir() / "partnership.sqlite"


def package_root() -> Path:
    """The folder holding the ``explorer`` package (inside a PyInstaller bundle too)."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle)
    return Path(__file__).resolve().parent.parent


def demo_source_path() -> Path:
    """The readable demo dataset: shipped inside the package, or the checkout's ``data/``."""
    candidates = [
        Path(__file__).resolve().parent / "data" / "demo.yaml",
        package_root() / "explorer" / "data" / "demo.yaml",
        package_root() / "data" / "demo.yaml",
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("The demo dataset (demo.yaml) is missing from this installation.")


def resources_dir() -> Path:
    for candidate in (package_root() / "resources", Path(__file__).resolve().parent / "resources"):
        if candidate.is_dir():
            return candidate
    return package_root() / "resources"
