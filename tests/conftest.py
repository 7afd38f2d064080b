"""Shared fixtures: offscreen Qt, an isolated user data folder per test, demo databases."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

# pytest-qt aborts with no DISPLAY unless a platform is chosen before Qt loads.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def user_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own empty user data folder (settings, logs, backups, demo copy)."""
    path = tmp_path_factory.mktemp("userdata")
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(path))
    monkeypatch.delenv("EXPLORER_DATABASE_URL", raising=False)
    return path


@pytest.fixture(scope="session")
def built_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from explorer.store.demo import build_demo_database

    out = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    return build_demo_database(out, ROOT / "data" / "demo.yaml")


@pytest.fixture
def demo_path(built_demo: Path, tmp_path: Path) -> Path:
    """A fresh writable copy of the demo database for one test."""
    dest = tmp_path / "demo.sqlite"
    shutil.copyfile(built_demo, dest)
    return dest


@pytest.fixture
def store(demo_path: Path) -> Iterator[object]:
    from explorer.store import open_store

    opened = open_store(demo_path)
    yield opened
    opened.close()
