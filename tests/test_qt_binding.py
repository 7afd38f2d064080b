"""Guard against the PySide6 6.12.0 + Python 3.11 crash (Fatal Python error: none_dealloc)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent

VOID_CALLS = """
import os
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QObject, QRect
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
obj, widget, rect = QObject(), QWidget(), QRect()
for i in range(34_000):
    obj.setObjectName("x")      # each returns None: the call that leaked a None reference
    widget.setEnabled(True)
    rect.setWidth(i)
print("survived", i + 1)
"""


def test_hundred_thousand_void_qt_calls_do_not_abort_the_interpreter() -> None:
    result = subprocess.run([sys.executable, "-c", VOID_CALLS], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "survived 34000" in result.stdout


def test_dependency_bounds_never_install_the_broken_pair() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pyside = [Requirement(r) for r in project["dependencies"] if r.lower().startswith("pyside6")]
    assert pyside
    for python in ("3.11", "3.11.7"):
        env = {"python_version": "3.11", "python_full_version": python}
        applicable = [r for r in pyside if r.marker is None or r.marker.evaluate(env)]
        assert applicable, "some PySide6 requirement must apply on Python 3.11"
        for req in applicable:
            assert not req.specifier.contains(Version("6.12.0")), str(req)
            assert req.specifier.contains(Version("6.11.3")), str(req)
