"""The File-menu exchange actions, driven through their dialogs offscreen."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog

from explorer.state import AppState
from explorer.store import exchange, open_store
from explorer.views import exchange as exchange_views
from explorer.views.main_window import MainWindow


@pytest.fixture
def window(qtbot, demo_path: Path) -> MainWindow:
    win = MainWindow(AppState(open_store(demo_path)))
    qtbot.addWidget(win)
    win.showNormal()  # the first start maximises to the small offscreen screen
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    return win


def _answer(monkeypatch: pytest.MonkeyPatch, dialog_class: type, setup=None) -> list[QDialog]:
    """Make a dialog's exec() return Accepted after an optional setup (what a click would do)."""
    shown: list[QDialog] = []

    def fake_exec(self: QDialog) -> int:
        shown.append(self)
        if setup is not None and setup(self) is False:
            return QDialog.DialogCode.Rejected
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(dialog_class, "exec", fake_exec)
    return shown


def _country_csv(tmp_path: Path, rows: list[tuple[str, str]]) -> Path:
    header = exchange.columns("country")
    buffer = io.StringIO()
    writer = csv.writer(buffer, dialect="excel")
    writer.writerow(header)
    for code, name in rows:
        row = dict.fromkeys(header, "")
        row.update(uuid=str(uuid.uuid4()), code=code, name=name)
        writer.writerow([row[c] for c in header])
    path = tmp_path / "country.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def test_file_menu_has_the_exchange_actions(window: MainWindow) -> None:
    texts = [a.text().replace("&", "") for a in window.file_menu.actions()]
    for wanted in ("Connect to a Team Server…", "Import…", "Merge Another Analyst's File…", "Backups…"):
        assert wanted in texts
    # One Export entry: a submenu with the pictures, hand-outs and the records themselves
    exports = [a for a in window.file_menu.actions() if a.text().replace("&", "").startswith("Export")]
    assert len(exports) == 1 and exports[0].menu() is not None
    inside = [a.text().replace("&", "") for a in exports[0].menu().actions()]
    assert "Records as JSON, CSV or a Database Copy…" in inside and any("PNG" in t for t in inside)


def test_import_from_the_menu_shows_the_report_and_edit_undo_takes_it_back(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = lambda: {label for _i, label in window.state.store.list_records("country")}  # noqa: E731
    good = _country_csv(tmp_path, [("SG", "Singapore"), ("LK", "Sri Lanka")])
    shown = _answer(monkeypatch, exchange_views.ImportDialog)
    result = exchange_views.import_files(window, [good])
    assert result is not None and shown[0].import_button.isEnabled()
    assert {"Singapore", "Sri Lanka"} <= names()
    undo = window.editing.ops.undo_stack
    assert undo.undoText().startswith("Import country.csv")
    undo.undo()
    assert not {"Singapore", "Sri Lanka"} & names()
    undo.redo()
    assert {"Singapore", "Sri Lanka"} <= names()


def test_a_bad_file_is_shown_row_by_row_and_cannot_be_imported(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = _country_csv(tmp_path, [("SG", "Singapore"), ("", "Nowhere")])
    shown = _answer(monkeypatch, exchange_views.ImportDialog)
    assert exchange_views.import_files(window, [bad]) is None
    assert not shown[0].import_button.isEnabled()
    assert "country.csv, row 3, code: is required" in shown[0].report_view.toPlainText()
    assert "Singapore" not in {label for _i, label in window.state.store.list_records("country")}


def test_merge_dialog_lists_conflicts_and_applies_the_chosen_side(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = window.state.store
    theirs_path = tmp_path / "theirs.sqlite"
    store.export(theirs_path, fmt="sqlite")
    deal_id, _label = store.list_records("deal")[0]
    theirs = open_store(theirs_path)
    theirs.update("deal", deal_id, {"notes": "theirs"}, expected_version=theirs.get("deal", deal_id).version)
    theirs.close()
    store.update("deal", deal_id, {"notes": "mine"}, expected_version=store.get("deal", deal_id).version)

    def choose_theirs(dialog: exchange_views.MergeDialog) -> None:
        assert dialog.conflict_table.rowCount() == 1
        assert dialog.conflict_table.item(0, 1).text() == "Notes"
        assert (dialog.conflict_table.item(0, 2).text(), dialog.conflict_table.item(0, 3).text()) == ("mine", "theirs")
        box = next(iter(dialog.choices.values()))
        box.setCurrentIndex(box.findData("theirs"))

    _answer(monkeypatch, exchange_views.MergeDialog, choose_theirs)
    assert exchange_views.merge(window, theirs_path)
    assert store.get("deal", deal_id).notes == "theirs"
    undo = window.editing.ops.undo_stack
    assert undo.undoText().startswith("Merge theirs.sqlite")
    undo.undo()  # Edit ▸ Undo takes the merge back
    assert store.get("deal", deal_id).notes == "mine"
    undo.redo()
    assert store.get("deal", deal_id).notes == "theirs"


def test_export_and_backups_dialog_restore(window: MainWindow, tmp_path: Path, qtbot) -> None:
    written = exchange_views.export(window, "json", tmp_path / "all.json")
    assert written == [tmp_path / "all.json"] and written[0].stat().st_size > 1000
    store = window.state.store
    store.backup_now("manual")
    store.create("country", {"code": "SG", "name": "Singapore"})
    dialog = exchange_views.show_backups(window)
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 1 and dialog.table.item(0, 1).text() == "made by hand"
    assert dialog.restore(confirm=False)
    assert window.state.store is not store  # the window reopened the restored file
    assert "Singapore" not in {label for _i, label in window.state.store.list_records("country")}
    rows = [dialog.table.item(r, 1).text() for r in range(dialog.table.rowCount())]
    assert rows == ["before restoring a backup", "made by hand"], rows  # the state it replaced was backed up
    dialog.close()


def test_import_check_and_write_run_while_the_window_keeps_painting(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big file's check and import run on a worker thread: the GUI thread keeps turning (here a
    timer keeps ticking) instead of freezing for seconds."""
    import time

    from PySide6.QtCore import QTimer

    store = window.state.store
    ticks: list[int] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(20)
    real_check, real_import = store.check_import, store.import_files

    def slow_check(sources):
        time.sleep(0.5)
        return real_check(sources)

    def slow_import(sources):
        time.sleep(0.5)
        return real_import(sources)

    monkeypatch.setattr(store, "check_import", slow_check)
    monkeypatch.setattr(store, "import_files", slow_import)
    _answer(monkeypatch, exchange_views.ImportDialog)
    result = exchange_views.import_files(window, [_country_csv(tmp_path, [("KR", "Korea")])])
    timer.stop()
    assert result is not None and result.report.new == {"country": 1}
    assert len(ticks) >= 20  # about a second of checking and writing, and the loop ran throughout
    window.editing.ops.undo_stack.undo()
    assert "Korea" not in [name for _i, name in store.list_records("country")]
