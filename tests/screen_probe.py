"""Runs inside the app on a real X display (see test_real_screen.py): opens the main window as a
first start would, then every dialog in turn, and writes where each one and its buttons landed,
in Qt's logical pixels, with the screen they are on.

Usage: python tests/screen_probe.py DB OUT.json
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QPoint, QRect, QTimer
from PySide6.QtWidgets import QAbstractButton, QApplication, QDialog, QDialogButtonBox, QDockWidget, QWidget


def settle(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def box(rect: QRect) -> list[int]:
    return [rect.x(), rect.y(), rect.width(), rect.height()]


def global_rect(widget: QWidget) -> QRect:
    return QRect(widget.mapToGlobal(QPoint(0, 0)), widget.size())


def action_buttons(window: QWidget) -> list[dict[str, Any]]:
    """The buttons a person must reach to finish with the window: those of its button boxes,
    and its own push buttons outside scrolled lists."""
    found = []
    for button_box in window.findChildren(QDialogButtonBox):
        for button in button_box.buttons():
            if button.isVisible():
                found.append({"text": button.text(), "rect": box(global_rect(button))})
    if not found:
        for button in window.findChildren(QAbstractButton):
            if button.isVisible() and button.window() is window and button.text():
                found.append({"text": button.text(), "rect": box(global_rect(button))})
    return found


def outer_frame(window: QWidget) -> QRect | None:
    """The window with the window manager's frame, once it has one: from the native window's
    own geometry and frame margins (QWidget.frameGeometry() sometimes reads 1×1 while the frame
    is being made)."""
    handle = window.windowHandle()
    if handle is None or not handle.isExposed():
        return None
    margins = handle.frameMargins()
    if margins.top() <= 0:
        return None
    inner = handle.geometry()
    return inner.adjusted(-margins.left(), -margins.top(), margins.right(), margins.bottom())


def describe(name: str, window: QWidget) -> dict[str, Any]:
    screen = window.screen().geometry()
    available = window.screen().availableGeometry()
    frame = outer_frame(window) or window.frameGeometry()
    return {
        "name": name,
        "frame": box(frame),
        "screen": box(screen),
        "available": box(available),
        "buttons": action_buttons(window),
    }


def main(db: Path, out: Path) -> int:
    from explorer.views.theme import apply_theme

    app = QApplication(sys.argv[:1])
    from explorer import models as m
    from explorer.forms.record_form import ConflictDialog
    from explorer.state import AppState, RecordRef
    from explorer.store import ConflictError, open_store
    from explorer.views import exchange
    from explorer.views.exports import FigureOptionsDialog
    from explorer.views.main_window import MainWindow
    from explorer.views.spreadsheet_import import SpreadsheetImportDialog

    apply_theme(app, "light")
    store = open_store(db)
    window = MainWindow(AppState(store))
    window.show()
    window.focus_records_action.trigger()  # the records table under the timeline, as Ctrl+4 opens it
    settle(1500)
    report: list[dict[str, Any]] = [describe("main window", window)]
    # with the records table open under it, what is left of the timeline
    report[0]["timeline"] = box(global_rect(window.timeline))
    # whether the sector tree must be scrolled sideways to read its deals and totals
    report[0]["width"] = window.width()
    report[0]["tree_scrolls"] = window.tree_view.tree.horizontalScrollBar().maximum() > 0
    for dock in window.findChildren(QDockWidget):
        if dock.isVisible():
            report.append(
                {
                    "name": f"dock {dock.windowTitle()}",
                    "frame": box(global_rect(dock)),
                    "screen": report[0]["screen"],
                    "available": report[0]["available"],
                    "buttons": [],
                }
            )

    with store.read() as session:
        from sqlmodel import select

        deal = session.exec(select(m.Deal).where(m.Deal.amount_usd == 4.76e9)).one()
    deal_ref = RecordRef("deal", int(deal.id or 0))
    other_db = out.parent / "other.sqlite"
    shutil.copy(db, other_db)
    other = open_store(other_db)
    other.update("deal", deal_ref.record_id, {"notes": "Changed in the other copy."}, expected_version=deal.version)
    other.close()
    sheet = out.parent / "summits tracker.csv"
    sheet.write_text(
        "Headline,When,Where,Remarks,Amount\n"
        + "".join(
            f'Business forum {i},{1 + i % 28:02d}/08/2025,Tokyo,A long remark about the forum {i},"¥1,000"\n'
            for i in range(40)
        ),
        encoding="utf-8",
    )
    bad_csv = out.parent / "countries.csv"
    bad_csv.write_text("uuid,code,name\n,XX,\n,IN,India\n", encoding="utf-8")
    long_text = "A long note saved meanwhile by another analyst, " * 40
    conflict = ConflictError(
        record_type="deal",
        record_id=deal_ref.record_id,
        expected_version=1,
        current_version=2,
        current={"notes": long_text, "status": "operational"},
    )

    openers: list[tuple[str, Callable[[], QWidget | None]]] = [
        ("edit deal form", lambda: window.editing.edit(deal_ref)),
        ("new event form", lambda: window.editing.new_record("event")),
        (
            "conflict dialog",
            lambda: ConflictDialog(
                conflict,
                {"notes": "Mine " * 300, "status": "completed"},
                {"notes": "Notes", "status": "Status"},
                window,
            ),
        ),
        ("import report", lambda: exchange.ImportDialog(window, [bad_csv], store.check_import([bad_csv]))),
        ("merge review", lambda: exchange.MergeDialog(window, store.plan_merge(other_db))),
        ("story editor", lambda: window.workshop.edit_stories()),
        ("backups", lambda: exchange.show_backups(window)),
        ("edit history", lambda: window.editing.show_history()),
        ("export", lambda: exchange.ExportDialog(window, 1)),
        ("connect", lambda: exchange.ConnectDialog(window, "")),
        ("spreadsheet import", lambda: SpreadsheetImportDialog(window, sheet)),
        ("picture export options", lambda: FigureOptionsDialog(window, "png")),
    ]
    for name, opener in openers:
        try:
            dialog = opener()
        except Exception as exc:  # reported, so the test names what could not open
            report.append({"name": name, "error": repr(exc)})
            continue
        if dialog is None:
            report.append({"name": name, "error": "nothing opened"})
            continue
        dialog.show()
        settle(300)
        last = None
        for _ in range(120):  # until the window manager has mapped, framed and placed it, and it
            framed = outer_frame(dialog)  # stays put (slow on a busy machine)
            if framed is not None and framed == last:
                break
            last = framed
            settle(150)
        report.append(describe(name, dialog))
        if isinstance(dialog, QDialog):
            dialog.reject()
        dialog.close()
        settle(100)
    out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
