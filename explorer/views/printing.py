"""Printing: File ▸ Print… and Print Preview… for the current view, the selected record's
details, or a story as hand-out pages.

The pages are the PDF hand-outs' own (explorer.views.exports.HandoutPages) laid out on a QPrinter:
one page-rendering path for both, vector drawing on paper as in the PDF.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QInputDialog, QMenu, QMessageBox

from explorer import shortcuts
from explorer.store import StoreError

if TYPE_CHECKING:  # Qt's print support and the page layout load on the first print, not with the window
    from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog

    from explorer.views.exports import HandoutPages
    from explorer.views.main_window import MainWindow

log = logging.getLogger("explorer.printing")

# What can be printed, in the order it is offered.
CHOICES = {
    "view": "The current view (the timeline and the selected records)",
    "record": "The selected record's details",
    "story": "A story, one page per step",
}


def on_paper(detail_html: str) -> str:
    """The detail pane's page without what only works on screen (its Edit… link)."""
    return re.sub(r"\s*·\s*<a href='edit:[^']*'>[^<]*</a>", "", detail_html)


def record_pages(pages: HandoutPages, window: MainWindow) -> int:
    """Each selected record's details as the detail pane shows them (fields, amounts, links,
    sources), flowing over as many pages as they need."""
    from explorer.views import exports

    state = window.state
    refs = state.selection[:20]
    if not refs:
        pages.add_page("Details", "", (), "<p>Nothing is selected.</p>")
    for ref in refs:
        try:
            detail = state.detail(ref)
        except StoreError as exc:
            log.warning("cannot print %s: %s", ref, exc.message)
            continue
        with exports.on_paper_colours(window.detail):
            page = on_paper(window.detail.render_html(detail))
        pages.add_page(detail.title, "", (), page)
    return pages.finish()


def print_pages(window: MainWindow, printer: QPrinter, what: str, story_id: int | None = None) -> int:
    """Lay out ``what`` on the printer's pages; the number of pages."""
    from explorer.views import exports

    timeline = window.timeline
    dpi = exports.screen_dpi(timeline)
    if what == "story" and story_id is not None:
        title = dict(window.state.store.list_stories()).get(story_id, "Story")
        pages = exports.HandoutPages(printer, title, dpi)
        return exports.story_pages(pages, window.state, timeline, window.story_player, story_id)
    pages = exports.HandoutPages(printer, "Partnership Explorer", dpi)
    if what == "record":
        return record_pages(pages, window)
    return exports.view_pages(pages, window.state, timeline)


def new_printer() -> QPrinter:
    from PySide6.QtPrintSupport import QPrinter

    from explorer.views import exports

    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setPageLayout(exports.a4_landscape())
    printer.setDocName("Partnership Explorer")
    return printer


class Printing:
    """The window's Print… and Print Preview… actions; the printer (and the user's choices in
    its dialog) is kept for the next print."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.printer: QPrinter | None = None
        self.print_action = self._action("&Print…", self.print_, QKeySequence.StandardKey.Print)
        self.preview_action = self._action("Print Pre&view…", self.preview)

    def _action(self, text: str, slot: object, *keys: QKeySequence.StandardKey) -> QAction:
        action = QAction(text, self.window)
        if keys:
            action.setShortcuts(shortcuts.keys(*keys))
        action.triggered.connect(lambda _c=False: slot())  # type: ignore[operator]
        self.window.addAction(action)
        return action

    def install(self, file_menu: QMenu, before: QAction) -> None:
        """Print… and Print Preview… before ``before`` (Quit), in a group of their own."""
        file_menu.insertActions(before, [self.print_action, self.preview_action])
        file_menu.insertSeparator(before)

    def _printer(self) -> QPrinter:
        if self.printer is None:
            self.printer = new_printer()
        return self.printer

    def choose(self) -> tuple[str, int | None] | None:
        """What to print: asked, unless nothing but the view makes sense."""
        labels = list(CHOICES.values())
        label, ok = QInputDialog.getItem(self.window, "Print", "What to print", labels, 0, False)
        if not ok:
            return None
        what = list(CHOICES)[labels.index(label)]
        if what != "story":
            return what, None
        story_id = self.window.workshop.choose_story("Print a story")
        return None if story_id is None else (what, story_id)

    def _run(self, printer: QPrinter, what: str, story_id: int | None) -> int:
        try:
            return print_pages(self.window, printer, what, story_id)
        except (OSError, StoreError, RuntimeError) as exc:
            log.warning("printing failed: %s", exc)
            QMessageBox.warning(self.window, "Printing failed", f"Could not print: {exc}")
            return 0

    def print_(self, choice: tuple[str, int | None] | None = None) -> int:
        choice = choice or self.choose()
        if choice is None:
            return 0
        from PySide6.QtPrintSupport import QPrintDialog

        printer = self._printer()
        dialog = QPrintDialog(printer, self.window)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return 0
        return self._run(printer, *choice)

    def preview(self, choice: tuple[str, int | None] | None = None) -> QPrintPreviewDialog | None:
        """The pages as they will print (zoom, orientation, page setup, and Print from there)."""
        choice = choice or self.choose()
        if choice is None:
            return None
        from PySide6.QtPrintSupport import QPrintPreviewDialog

        dialog = QPrintPreviewDialog(self._printer(), self.window)
        dialog.setWindowTitle("Print preview")
        dialog.paintRequested.connect(lambda printer: self._run(printer, *choice))
        dialog.resize(int(self.window.width() * 0.8), int(self.window.height() * 0.85))
        dialog.open()  # window-modal, without a nested event loop
        return dialog
