"""Forms at scale: opening every record form (new and edit) and typing into its record pickers.

    python benchmarks/forms.py DATABASE [--runs 5] [--types deal,event]

DATABASE is opened as it is (use a copy: opening may upgrade it). Prints medians in ms and the
ratio to a floor measured in the same run: the same QDialog with one plain QLineEdit per field,
shown and painted. Typing is timed per keystroke, from the key press to the picker's list being
updated and painted. Budgets (issue 7, at 1e6 records): open a form well under 200 ms, a
keystroke in a picker well under 50 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

OPEN_BUDGET_MS = 200.0
KEY_BUDGET_MS = 50.0
# (record type, field, text typed): pickers over the biggest tables of a synthetic database
TYPING = [
    ("deal", "organisations", "Sumida Heavy Industries 12"),
    ("deal", "event_id", "Signing in Delhi 1"),
    ("deal", "pledge_id", "pledge 4"),
    ("deal", "place_id", "Mumbai district 3"),
    ("event", "participant_ids", "Delegate 0012"),
    ("deal", "sector_id", "Pharma"),
    # the slow case: text common in deal and event titles but in no organisation's name, so the
    # full-text index gives up and the organisation names are scanned on every keystroke
    ("deal", "organisations", "Mumbai port"),
]


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000.0


def timed(fn: Callable[[], Any], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--types", default="", help="record types to open (default: every form)")
    args = parser.parse_args(argv)

    from PySide6.QtCore import QEvent, Qt, QtMsgType, qInstallMessageHandler
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLineEdit

    from explorer.forms.operations import Operations
    from explorer.forms.record_form import FORMS, form_for
    from explorer.state import AppState
    from explorer.store import open_store

    def quiet(kind: QtMsgType, _context: Any, message: str) -> None:
        if "This plugin does not support" not in message:  # the offscreen platform: no window manager
            sys.stderr.write(message + "\n")

    qInstallMessageHandler(quiet)
    app = QApplication.instance() or QApplication([])
    store = open_store(args.database)
    state = AppState(store)
    ops = Operations(state)
    types = [t for t in args.types.split(",") if t] or list(FORMS)

    def show_and_close(dialog: QDialog) -> None:
        dialog.show()
        dialog.repaint()
        app.processEvents()
        dialog.close()
        dialog.deleteLater()
        app.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # no widget outlives its run

    def floor(fields: int) -> None:
        dialog = QDialog()
        form = QFormLayout(dialog)
        for n in range(fields):
            form.addRow(f"Field {n}", QLineEdit(dialog))
        form.addRow(QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel))
        dialog.resize(640, 600)
        show_and_close(dialog)

    rows: list[tuple[str, float, float]] = []
    for record_type in types:
        first = store.pick(record_type, "", 1) if hasattr(store, "pick") else store.list_records(record_type)[:1]
        fields = len(form_for(state, ops, record_type).editors)
        floor_ms = median_ms(timed(lambda n=fields: floor(n), args.runs))
        new_ms = median_ms(timed(lambda t=record_type: show_and_close(form_for(state, ops, t)), args.runs))
        rows.append((f"open new {record_type} form ({fields} fields)", new_ms, floor_ms))
        if first:
            record_id = first[0][0]
            edit_ms = median_ms(
                timed(lambda t=record_type, i=record_id: show_and_close(form_for(state, ops, t, i)), args.runs)
            )
            rows.append((f"open {record_type} form to edit", edit_ms, floor_ms))
        app.processEvents()

    def typing_target(editor: Any) -> QLineEdit:
        if isinstance(getattr(editor, "picker", None), QLineEdit):
            return editor.picker
        widget = editor.focus_widget()
        if isinstance(widget, QComboBox):
            return widget.lineEdit()
        if isinstance(widget, QLineEdit):
            return widget
        return editor.filter  # the earlier tick lists filtered through a line edit

    def paint_windows() -> None:
        """The form and any list popped up under the field (a popup is a window of its own)."""
        for widget in app.topLevelWidgets():
            if widget.isVisible():
                widget.repaint()

    key_rows: list[tuple[str, float, float]] = []
    for record_type, field, text in TYPING:
        if record_type not in types:
            continue
        form = form_for(state, ops, record_type)
        form.show()
        app.processEvents()
        target = typing_target(form.editors[field])
        target.setFocus()
        samples: list[float] = []
        floor_samples: list[float] = []
        plain = QLineEdit(form)
        plain.show()
        for _ in range(max(1, args.runs // 2)):
            target.clear()
            app.processEvents()
            for ch in text:
                started = time.perf_counter()
                QTest.keyClick(target, ch)
                app.processEvents()
                paint_windows()
                samples.append(time.perf_counter() - started)
            plain.clear()
            for ch in text:
                started = time.perf_counter()
                QTest.keyClick(plain, ch)
                app.processEvents()
                paint_windows()
                floor_samples.append(time.perf_counter() - started)
            QTest.keyClick(target, Qt.Key.Key_Escape)
        key_rows.append(
            (f"type {text!r} into {record_type} {field}, per key"[:52], median_ms(samples), median_ms(floor_samples))
        )
        form.close()
        form.deleteLater()
        app.sendPostedEvents(None, QEvent.Type.DeferredDelete)

    print(f"database: {args.database} ({args.runs} runs; medians)")
    print(f"| {'measure':<52} | {'median':>9} | {'floor':>9} | {'ratio':>6} | budget |")
    print(f"|{'-' * 54}|{'-' * 11}|{'-' * 11}|{'-' * 8}|--------|")
    for label, value, floor_ms in rows + key_rows:
        budget = KEY_BUDGET_MS if label.startswith("type") else OPEN_BUDGET_MS
        verdict = "met" if value <= budget else "NOT met"
        print(f"| {label:<52} | {value:7.1f}ms | {floor_ms:7.1f}ms | {value / floor_ms:5.1f}× | {verdict} |")
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
