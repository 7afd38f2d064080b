"""File ▸ Import… with a spreadsheet: the columns matched, a preview, the problems, then the rows
written in the background and undone by Edit ▸ Undo."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox
from sqlmodel import select

from explorer import models as m
from explorer.store import Store
from explorer.views.main_window import MainWindow
from explorer.views.spreadsheet_import import SpreadsheetImportDialog, import_spreadsheet


def settle(qtbot, dialog: SpreadsheetImportDialog) -> None:
    """Let every background job of the dialog (reading, checking, writing) finish and deliver."""
    qtbot.waitUntil(lambda: dialog.job is None and not dialog._recheck.isActive(), timeout=20_000)


def workbook(path: Path, rows: list[list[object]], title: str = "Summits") -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = title
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


def events_titled(store: Store, prefix: str) -> list[m.Event]:
    with store.read() as session:
        return list(session.exec(select(m.Event).where(m.Event.title.startswith(prefix))).all())  # type: ignore[attr-defined]


ROWS: list[list[object]] = [
    ["Headline", "When", "Where", "Remarks"],
    ["Tokyo business forum", dt.datetime(2025, 8, 30), "Tokyo", "Chambers of commerce met."],
    ["Delhi investment round table", "Sep 2025", "New Delhi", ""],
]


def test_a_workbook_is_mapped_previewed_checked_imported_and_undone(
    qtbot, window: MainWindow, store: Store, tmp_path: Path
) -> None:
    dialog = import_spreadsheet(window, workbook(tmp_path / "summits.xlsx", ROWS))
    qtbot.addWidget(dialog)
    settle(qtbot, dialog)
    assert dialog.record_type == "event"  # the sheet is called "Summits"
    assert dialog.mapping() == {"Headline": "title", "When": "start_date", "Where": "place_uuid", "Remarks": "notes"}
    preview = dialog.preview_table
    headers = [preview.horizontalHeaderItem(c).text() for c in range(preview.columnCount())]
    assert headers == ["Title", "Date", "Place", "Notes"]
    assert [preview.item(r, 1).text() for r in range(preview.rowCount())] == ["2025-08-30", "Sep 2025"]
    assert dialog.problems_view.toPlainText() == "No problems."
    assert dialog.import_button.isEnabled()

    # The remarks are not wanted: the person unticks them, and the check runs again.
    combo = dialog.mapping_table.cellWidget(3, 1)
    assert isinstance(combo, QComboBox)
    combo.setCurrentIndex(0)
    settle(qtbot, dialog)
    assert dialog.mapping()["Remarks"] is None and dialog.import_button.isEnabled()

    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    settle(qtbot, dialog)
    assert dialog.result() == dialog.DialogCode.Accepted
    (forum,) = events_titled(store, "Tokyo business forum")
    assert (forum.start_date, forum.notes) == (dt.date(2025, 8, 30), None)
    assert window.editing.ops.undo_stack.undoText().startswith("Import summits.xlsx")
    # The new records are found like any other.
    assert ("event", forum.id) in [(f.record_type, f.record_id) for f in store.find("business forum")]

    window.editing.ops.undo_stack.undo()
    assert events_titled(store, "Tokyo business forum") == []
    assert events_titled(store, "Delhi investment round table") == []
    window.editing.ops.undo_stack.redo()
    assert len(events_titled(store, "Tokyo business forum")) == 1


def test_problems_are_listed_by_row_and_column_and_block_the_import(
    qtbot, window: MainWindow, store: Store, tmp_path: Path
) -> None:
    rows = [*ROWS, ["Osaka expo visit", "31/02/2025", "Atlantis", ""]]
    dialog = import_spreadsheet(window, workbook(tmp_path / "summits.xlsx", rows))
    qtbot.addWidget(dialog)
    settle(qtbot, dialog)
    text = dialog.problems_view.toPlainText()
    assert "row 4, When" in text and "row 4, Where" in text and "Atlantis" in text
    assert not dialog.import_button.isEnabled()
    assert "Cannot import yet: 2 problem(s)" in dialog.status.text()
    # Mapping the bad column away leaves only the date to fix.
    dialog.set_mapping("Where", None)
    settle(qtbot, dialog)
    assert "Where" not in dialog.problems_view.toPlainText() and "row 4, When" in dialog.problems_view.toPlainText()


def test_a_cancelled_import_writes_nothing(qtbot, window: MainWindow, store: Store, tmp_path: Path) -> None:
    rows: list[list[object]] = [["Title", "Date"]] + [[f"Generated meeting {i}", "2024"] for i in range(3000)]
    dialog = import_spreadsheet(window, workbook(tmp_path / "meetings.xlsx", rows, title="Events"))
    qtbot.addWidget(dialog)
    settle(qtbot, dialog)
    assert dialog.import_button.isEnabled(), dialog.problems_view.toPlainText()
    dialog.start_import()
    dialog.cancel_job()  # at once: the writer stops at its next row and rolls back
    settle(qtbot, dialog)
    if dialog.imported is None:  # cancelled in time: nothing at all was written
        assert events_titled(store, "Generated meeting") == []
        assert "cancelled" in dialog.status.text().lower()
    else:  # the rows were written before the cancel arrived: then they are on the undo stack
        window.editing.ops.undo_stack.undo()
        assert events_titled(store, "Generated meeting") == []


@pytest.mark.parametrize("name", ["notes.txt"])
def test_a_file_that_is_not_a_table_says_so(qtbot, window: MainWindow, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"\xff\xfe\x00binary")
    dialog = import_spreadsheet(window, path)
    qtbot.addWidget(dialog)
    settle(qtbot, dialog)
    assert "UTF-8" in dialog.status.text() and not dialog.import_button.isEnabled()


ROWS_SENT_IN_PARTS = 2_100  # more than one message of results (isolated.PART)


def test_a_large_sheet_is_checked_written_undone_and_redone_by_another_process(
    qtbot, window: MainWindow, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From a few thousand rows the work runs in a child process (so the window never stutters);
    what it wrote reaches every view as if written here, and undo and redo work the same."""
    import csv

    from explorer.store import isolated
    from explorer.views import spreadsheet_import as sheet_dialog

    monkeypatch.setattr(isolated, "ISOLATE_ROWS", 20)
    calls: list[str] = []
    real = sheet_dialog.run_isolated

    def spy(store_: Store, method: str, *args: object, **kwargs: object) -> object:
        calls.append(method)
        return real(store_, method, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sheet_dialog, "run_isolated", spy)
    real_function = sheet_dialog.run_function

    def function_spy(function: object, *args: object, **kwargs: object) -> object:
        calls.append(getattr(function, "__name__", "?"))
        return real_function(function, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sheet_dialog, "run_function", function_spy)
    monkeypatch.setattr(sheet_dialog, "READ_APART_TEXT", 1024)  # this file is read by a worker too
    path = tmp_path / "meetings.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Title", "Date", "Place"])
        for i in range(ROWS_SENT_IN_PARTS):
            writer.writerow([f"Working group meeting {i}", f"{1 + i % 28:02d}/03/2019", "New Delhi"])
    shown_before = window.timeline.shown_count()
    dialog = import_spreadsheet(window, path)
    qtbot.addWidget(dialog)
    settle(qtbot, dialog)
    assert dialog.import_button.isEnabled(), dialog.problems_view.toPlainText()
    assert calls == ["read_sheets", "check_spreadsheet"]
    # The window keeps only the first rows (for the preview); the worker reads them all.
    assert dialog.sheet_box.currentText() == f"meetings.csv ({ROWS_SENT_IN_PARTS:,} rows)"
    assert len(dialog.sheets[0].rows) == 20 and dialog.preview_table.rowCount() == 20
    assert f"{ROWS_SENT_IN_PARTS:,} rows checked" in dialog.status.text()
    dialog.start_import()
    settle(qtbot, dialog)
    assert calls == ["read_sheets", "check_spreadsheet", "import_spreadsheet"]
    made = events_titled(store, "Working group meeting")
    assert len(made) == ROWS_SENT_IN_PARTS and {e.start_date for e in made} >= {
        dt.date(2019, 3, 1),
        dt.date(2019, 3, 28),
    }
    qtbot.waitUntil(lambda: window.timeline.shown_count() == shown_before + ROWS_SENT_IN_PARTS, timeout=10_000)
    assert ("event", made[0].id) in [(f.record_type, f.record_id) for f in store.find("Working group meeting 0")]

    stack = window.editing.ops.undo_stack
    stack.undo()
    assert calls[-1] == "undo_import"
    assert events_titled(store, "Working group meeting") == []
    qtbot.waitUntil(lambda: window.timeline.shown_count() == shown_before, timeout=10_000)
    assert store.find("Working group meeting 0") == []
    stack.redo()
    assert (
        calls[-1] == "import_spreadsheet" and len(events_titled(store, "Working group meeting")) == ROWS_SENT_IN_PARTS
    )
    qtbot.waitUntil(lambda: window.timeline.shown_count() == shown_before + ROWS_SENT_IN_PARTS, timeout=10_000)


def test_a_sheet_changed_after_it_was_read_is_not_imported_unseen(
    qtbot, window: MainWindow, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child process reads the file again: if it changed since the preview, it says so."""
    from explorer.store import isolated

    monkeypatch.setattr(isolated, "ISOLATE_ROWS", 2)
    path = workbook(tmp_path / "summits.xlsx", ROWS)
    dialog = import_spreadsheet(window, path)
    qtbot.addWidget(dialog)
    settle(qtbot, dialog)
    assert dialog.import_button.isEnabled()
    workbook(path, [*ROWS, ["Added later", "2025", "Tokyo", ""]])
    dialog.start_import()
    settle(qtbot, dialog)
    assert "changed since it was read" in dialog.status.text()
    assert events_titled(store, "Tokyo business forum") == [] and dialog.result() != dialog.DialogCode.Accepted


def test_rows_that_are_records_already_held_are_shown_for_review(
    qtbot, window: MainWindow, store: Store, tmp_path: Path
) -> None:
    path = workbook(tmp_path / "summits.xlsx", ROWS)
    first = import_spreadsheet(window, path)
    qtbot.addWidget(first)
    settle(qtbot, first)
    first.start_import()
    settle(qtbot, first)
    again = import_spreadsheet(window, path)  # the same sheet a week later
    qtbot.addWidget(again)
    settle(qtbot, again)
    assert "2 of them update records already held" in again.status.text()
    review = again.problems_view.toPlainText()
    assert "row 2: Event “Tokyo business forum”" in review and "row 3:" in review
    again.start_import()
    settle(qtbot, again)
    assert len(events_titled(store, "Tokyo business forum")) == 1
