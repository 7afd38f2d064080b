"""Printing: the hand-out pages on a QPrinter (PDF output offscreen), and the preview dialog."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QApplication
from sqlmodel import select

from explorer import models as m
from explorer.state import RecordRef
from explorer.store import Store
from explorer.views import printing
from explorer.views.main_window import MainWindow


def pdf_printer(path: Path) -> QPrinter:
    printer = printing.new_printer()
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


def pdf_pages(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [" ".join(page.extract_text().split()) for page in PdfReader(str(path)).pages]


def pledge_ref(store: Store) -> RecordRef:
    with store.read() as s:
        pledge = s.exec(select(m.Pledge).where(m.Pledge.amount == 10e12)).one()
    return RecordRef("pledge", pledge.id)


def test_the_current_view_prints_as_the_pdf_page(window: MainWindow, store: Store, tmp_path: Path) -> None:
    from pypdf import PdfReader

    window.state.select(pledge_ref(store))
    out = tmp_path / "view.pdf"
    assert printing.print_pages(window, pdf_printer(out), "view") == 1
    page = PdfReader(str(out)).pages[0]
    assert page.mediabox.width > page.mediabox.height  # landscape, as the hand-outs
    data = page.get_contents().get_data()
    assert len(re.findall(rb"\s(?:re|l|c)\s", data)) > 200  # the timeline as paths
    assert not page["/Resources"].get("/XObject")
    text = pdf_pages(out)[0]
    assert "Summits & visits" in text and "10 trillion yen" in text and "Sources" in text


def test_a_records_details_print_with_their_links_and_sources(window: MainWindow, store: Store, tmp_path: Path) -> None:
    ref = pledge_ref(store)
    window.state.select(ref)
    out = tmp_path / "record.pdf"
    pages = printing.print_pages(window, pdf_printer(out), "record")
    text = " ".join(pdf_pages(out))
    assert pages >= 1
    detail = window.state.detail(ref)
    assert detail.title in text
    assert detail.citations and detail.citations[0].source_title.split()[0] in text
    assert "Edit…" not in text  # a link that does nothing on paper


def test_a_story_prints_one_page_per_step_and_the_view_stays(window: MainWindow, store: Store, tmp_path: Path) -> None:
    story_id = store.list_stories()[0][0]
    steps = store.story_steps(story_id)
    window.timeline.set_view_range(16000.5, 18000.5)
    before = (window.state.selection, window.timeline.view_range())
    out = tmp_path / "story.pdf"
    assert printing.print_pages(window, pdf_printer(out), "story", story_id) >= len(steps)
    texts = pdf_pages(out)
    for step in steps:
        assert any(" ".join(step.caption.split()[:4]) in t for t in texts)
    assert window.state.selection == before[0]
    assert window.timeline.view_range() == pytest.approx(before[1], abs=1e-6)


def test_print_preview_opens_shows_the_pages_and_closes(qtbot, window: MainWindow, store: Store) -> None:
    from PySide6.QtPrintSupport import QPrintPreviewWidget

    window.state.select(pledge_ref(store))
    assert window.printing.preview_action in window.file_menu.actions()
    assert window.printing.print_action in window.file_menu.actions()
    dialog = window.printing.preview(("record", None))
    assert dialog is not None
    qtbot.waitExposed(dialog)
    preview = dialog.findChild(QPrintPreviewWidget)
    qtbot.waitUntil(lambda: preview.pageCount() >= 1, timeout=10000)
    dialog.reject()
    QApplication.processEvents()
    assert not dialog.isVisible()
