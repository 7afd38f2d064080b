"""Start-up loads only what the first painted window needs (benchmarks/cold_start.py measures the time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from explorer.store import migrate

ROOT = Path(__file__).resolve().parent.parent

# What the app's start path imports, as benchmarks/run.py's probe does; then which of the modules
# only needed later (schema upgrades, import/export, merge, story editing, PDF exports) it loaded.
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
         "explorer.forms.story_editor", "explorer.views.exports"]
print(json.dumps({"loaded": [m for m in later if m in sys.modules], "title": window.windowTitle()}))
"""


def test_the_head_constant_is_alembics_head() -> None:
    """Start-up trusts migrate.HEAD to tell a current file without loading Alembic: a new
    migration must bump it, or files at the old head would not be upgraded."""
    assert migrate.head_revision() == migrate.HEAD
    assert migrate.is_known(migrate.HEAD)
    assert not migrate.is_known("9999")


def test_opening_a_current_database_loads_no_migration_or_exchange_code(demo_path: Path, user_data_dir: Path) -> None:
    env = dict(os.environ, EXPLORER_DATA_DIR=str(user_data_dir))
    proc = subprocess.run([sys.executable, "-c", PROBE, str(demo_path)], capture_output=True, text=True, env=env,
                          timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["title"].startswith(demo_path.name)  # the window opened on that database
    assert result["loaded"] == []
