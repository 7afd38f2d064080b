"""Opening files as desktop apps do: a path on the command line, drag & drop onto the window,
File ▸ Open Recent, and one window per file (a second launch brings the first forward)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from explorer import settings
from explorer.instance import InstanceServer, ask_running, database_key, server_name
from explorer.views.main_window import MainWindow
from explorer.views.spreadsheet_import import SpreadsheetImportDialog

ROOT = Path(__file__).resolve().parents[1]
# What the `explorer` command runs.
LAUNCH = [sys.executable, "-c", "import sys; from explorer.app import main; sys.exit(main())"]


def drop(window: MainWindow, path: Path) -> bool:
    """Drag a file from the file manager onto the window and let go."""
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(
        QPoint(50, 50), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(window, enter)
    if not enter.isAccepted():
        return False
    event = QDropEvent(
        QPointF(50, 50), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(window, event)
    return event.isAccepted()


def test_a_database_dropped_on_the_window_opens_and_is_listed_in_open_recent(
    qtbot, window: MainWindow, demo_path: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "workshop copy.sqlite"
    shutil.copyfile(demo_path, copy)
    assert drop(window, copy)
    qtbot.waitUntil(lambda: window.state.store.path == copy.resolve() or window.state.store.path == copy)
    assert "workshop copy" in window.windowTitle()
    assert settings.recent_files() == [str(copy.resolve())]

    # File ▸ Open Recent lists it; choosing it after another file was opened opens it again.
    window.open_demo()
    assert window.state.store.path != copy
    window._fill_recent_menu()
    entries = [a for a in window.recent_menu.actions() if "workshop copy.sqlite" in a.text()]
    assert len(entries) == 1 and entries[0].statusTip() == str(copy.resolve())
    entries[0].trigger()
    assert Path(window.state.store.path).resolve() == copy.resolve()


def test_a_spreadsheet_dropped_on_the_window_opens_the_import_dialog(qtbot, window: MainWindow, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["Name", "Kind", "Country"])
    book.active.append(["Varanasi", "city", "IN"])
    path = tmp_path / "new places.xlsx"
    book.save(path)
    assert drop(window, path)
    qtbot.waitUntil(lambda: bool(window.findChildren(SpreadsheetImportDialog)))
    dialog = window.findChildren(SpreadsheetImportDialog)[0]
    qtbot.waitUntil(lambda: dialog.job is None and not dialog._recheck.isActive(), timeout=20_000)
    assert dialog.record_type == "place" and dialog.import_button.isEnabled()
    dialog.reject()


def test_a_file_that_cannot_be_opened_is_not_taken(window: MainWindow, tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(b"\x89PNG")
    assert not drop(window, path)


ASK = (
    "import sys\n"
    "from PySide6.QtCore import QCoreApplication\n"
    "from explorer.instance import ask_running\n"
    "app = QCoreApplication([])\n"
    "sys.exit(0 if ask_running(sys.argv[1], sys.argv[2]) else 3)\n"
)


def _ask_from_another_thread(qtbot, name: str, message: str = "raise") -> bool:
    """ask_running as a second launch does it (another process), while this one's event loop
    lets the window (the server here) answer."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    asking = subprocess.Popen([sys.executable, "-c", ASK, name, message], env=env)
    qtbot.waitUntil(lambda: asking.poll() is not None, timeout=20_000)
    return asking.returncode == 0


def test_a_second_window_on_the_same_database_brings_the_first_forward(qtbot) -> None:
    name = server_name("/tmp/some/partnership.sqlite")
    assert not ask_running(name)  # nobody has it open
    server = InstanceServer()
    asked: list[str] = []
    server.raise_requested.connect(lambda: asked.append("raise"))
    server.open_requested.connect(asked.append)
    assert server.listen(name)
    try:
        assert _ask_from_another_thread(qtbot, name, "open /tmp/new.xlsx")
        assert asked == ["/tmp/new.xlsx", "raise"]
        assert not ask_running(server_name("/tmp/other.sqlite"))  # another file: its own window
    finally:
        server.close()
    assert not ask_running(name)


def test_a_window_that_does_not_answer_is_not_handed_the_launch(qtbot) -> None:
    """A hung window (or one whose display went away) still holds the socket: the new launch
    must open its own window rather than hand over to it and leave the person with none."""
    from PySide6.QtNetwork import QLocalServer

    name = server_name("/tmp/some/hung.sqlite")
    silent = QLocalServer()
    QLocalServer.removeServer(name)
    assert silent.listen(name)  # accepts connections, never reads or answers
    try:
        started = time.monotonic()
        assert not _ask_from_another_thread(qtbot, name)
        assert time.monotonic() - started < 5
    finally:
        silent.close()


def test_explorer_path_opens_that_file_and_a_second_launch_hands_over(demo_path: Path, tmp_path: Path) -> None:
    """The real thing: `explorer copy.sqlite` twice; the second exits and the first stays."""
    copy = tmp_path / "copy.sqlite"
    shutil.copyfile(demo_path, copy)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    first = subprocess.Popen([*LAUNCH, str(copy)], env=env, cwd=tmp_path)
    try:
        name = server_name(database_key(copy, ""))
        deadline = time.monotonic() + 60
        while not ask_running(name) and time.monotonic() < deadline:  # listening: it has *this* file open
            assert first.poll() is None, "the first window quit"
            time.sleep(0.2)
        assert ask_running(name), "the first launch never opened copy.sqlite"
        second = subprocess.run([*LAUNCH, str(copy)], env=env, cwd=tmp_path, timeout=60, capture_output=True)
        assert second.returncode == 0, second.stderr.decode()
        assert first.poll() is None  # still running, brought forward
    finally:
        first.kill()
        first.wait(10)
