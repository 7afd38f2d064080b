"""Start-up loads only what the first painted window needs (benchmarks/cold_start.py measures the time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from explorer.state import AppState, RecordRef
from explorer.store import Store, migrate
from explorer.views.detail import DetailPane, PledgeChart

ROOT = Path(__file__).resolve().parent.parent

# What the app's start path imports; then which of the modules
# only needed later (schema upgrades, import/export, merge, story editing, PDF exports, record forms,
# the platform's folder lookup when EXPLORER_DATA_DIR names the folder) it loaded, and how many plots
# it built (the timeline's; the detail pane's pledge chart waits for a pledge).
PROBE = """
import json, os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
from PySide6.QtWidgets import QApplication
from explorer.state import AppState
from explorer.store import open_store
from explorer.views.main_window import MainWindow
app = QApplication(sys.argv[:1])
store = open_store(sys.argv[1])
window = MainWindow(AppState(store))
window.show()
app.processEvents()
later = ["alembic", "explorer.store.exchange", "explorer.store.merge", "explorer.store.synth",
         "explorer.forms.story_editor", "explorer.views.exports", "explorer.forms.record_form",
         "explorer.forms.editors", "platformdirs"]
import pyqtgraph as pg
print(json.dumps({"loaded": [m for m in later if m in sys.modules], "title": window.windowTitle(),
                  "plots": len(window.findChildren(pg.PlotWidget))}))
"""


def test_the_head_constant_is_alembics_head() -> None:
    """Start-up trusts migrate.HEAD to tell a current file without loading Alembic: a new
    migration must bump it, or files at the old head would not be upgraded."""
    assert migrate.head_revision() == migrate.HEAD
    assert migrate.is_known(migrate.HEAD)
    assert not migrate.is_known("9999")


def test_opening_a_current_database_loads_no_migration_or_exchange_code(demo_path: Path, user_data_dir: Path) -> None:
    env = dict(os.environ, EXPLORER_DATA_DIR=str(user_data_dir))
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(demo_path)], capture_output=True, text=True, env=env, timeout=120, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["title"].startswith(demo_path.name)  # the window opened on that database
    assert result["loaded"] == []
    assert result["plots"] == 1


def test_the_pledge_chart_is_built_when_a_pledge_is_first_shown(qtbot, store: Store) -> None:
    state = AppState(store)
    pane = DetailPane(state)
    qtbot.addWidget(pane)
    pane.show()
    state.select(RecordRef("event", store.list_records("event")[0][0]))
    assert not pane.findChildren(PledgeChart)  # nothing to chart yet
    pledge_id = store.list_records("pledge")[0][0]
    state.select(RecordRef("pledge", pledge_id))
    assert pane.chart.isVisible() and pane.chart.progress is not None
    assert len(pane.findChildren(PledgeChart)) == 1
    state.select(RecordRef("event", store.list_records("event")[0][0]))
    assert not pane.chart.isVisible()
    state.select(RecordRef("pledge", pledge_id))
    assert pane.chart.isVisible() and len(pane.findChildren(PledgeChart)) == 1  # built once, reused


def test_garbage_collection_is_back_on_once_the_window_is_up(demo_path: Path, user_data_dir: Path) -> None:
    """Start-up pauses the collector (a seventh of start-up otherwise); the running app must
    collect again, or a long session would keep every cycle it ever made."""
    script = """
import gc, json, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from explorer.app import main
app = QApplication(sys.argv[:1])
seen = {}
def look():
    seen.update(enabled=gc.isenabled(), frozen=gc.get_freeze_count(), windows=len(app.topLevelWidgets()))
    app.closeAllWindows()
    app.quit()
QTimer.singleShot(500, look)
code = main(["--db", sys.argv[1]])
print(json.dumps(dict(seen, code=code)))
"""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run(
        [sys.executable, "-c", script, str(demo_path)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["code"] == 0 and seen["windows"] >= 1
    assert seen["enabled"] and seen["frozen"] > 10_000  # start-up's objects are kept out of collections


def test_the_app_imports_its_store_before_qt(demo_path: Path, user_data_dir: Path) -> None:
    """Once PySide6 is loaded its import hook reads the source of every later module (about
    60 ms of start-up for SQLAlchemy, SQLModel, the tables and numpy): the app loads those first."""
    script = """
import importlib.abc, json, sys
order = []
class Record(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        order.append(name)
sys.meta_path.insert(0, Record())
from explorer.app import main
code = main(["--db", sys.argv[1], "--screenshot", sys.argv[2], "--size", "800x500"])
print(json.dumps({"code": code, "order": order}))
"""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", EXPLORER_DATA_DIR=str(user_data_dir))
    shot = user_data_dir / "window.png"
    out = subprocess.run(
        [sys.executable, "-c", script, str(demo_path), str(shot)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["code"] == 0 and shot.stat().st_size > 0  # the window was drawn
    order = seen["order"]
    qt = order.index("PySide6")
    for module in ("numpy", "sqlalchemy", "sqlmodel", "pydantic", "explorer.models", "sqlalchemy.dialects.sqlite"):
        assert order.index(module) < qt, module
