"""Workshop mode: a story played with clicker keys, story editing, presentation, exports, reset."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication
from sqlmodel import select

from explorer import models as m
from explorer.state import AppState, RecordRef
from explorer.store import Store, open_store
from explorer.views.main_window import MainWindow
from explorer.views.theme import BASE_POINT_SIZE


def settle(qtbot, win: MainWindow) -> None:
    qtbot.waitUntil(lambda: not win.timeline.range_animation_running(), timeout=10000)


def expected_step(store: Store, step) -> list[RecordRef]:
    return sorted(RecordRef(t, i) for t, i in store.ids_for_uuids(step.selection))


def test_playing_the_demo_story_with_clicker_keys_drives_every_view(qtbot, window: MainWindow, store: Store) -> None:
    story_id = store.list_stories()[0][0]
    steps = store.story_steps(story_id)
    assert 9 <= len(steps) <= 12
    assert window.workshop.play(story_id)
    keys = [Qt.Key.Key_PageDown, Qt.Key.Key_Space, Qt.Key.Key_Right]
    for index, step in enumerate(steps):
        if index:
            qtbot.keyClick(window.timeline.plot, keys[index % 3])
        settle(qtbot, window)
        assert window.story_player.index == index
        refs = expected_step(store, step)
        assert refs, f"step {index + 1} selects something"
        assert sorted(window.state.selection) == refs
        start, end = window.timeline.view_range()
        assert start == pytest.approx(step.start_day, abs=1) and end == pytest.approx(step.end_day, abs=1)
        assert window.timeline.highlighted_refs() == refs
        first = store.detail(window.state.current.record_type, window.state.current.record_id)
        assert first.title in window.detail.plain_text()
        tree_expected = {r for r in window.tree_view._tree_refs_for(refs) if window.tree_view.index_of(r).isValid()}
        assert set(window.tree_view.selected_refs()) == tree_expected
        assert window.workshop.overlay.isVisible()
        assert window.workshop.overlay.text() == step.caption
        assert f"Step {index + 1} of {len(steps)}" in window.workshop.overlay.counter.text()
        if step.filters.get("sectors"):
            assert window.state.filters.sector_ids
            assert all(
                store.get(r.record_type, r.record_id).sector_id in window.state.filters.sector_ids
                for r in window.timeline.shown_refs()
                if r.record_type == "deal"
            )
        else:
            assert not window.state.filters.sector_ids
    qtbot.keyClick(window.timeline.plot, Qt.Key.Key_PageUp)
    assert window.story_player.index == len(steps) - 2
    qtbot.keyClick(window.timeline.plot, Qt.Key.Key_Home)
    assert window.story_player.index == 0
    qtbot.keyClick(window.timeline.plot, Qt.Key.Key_End)
    assert window.story_player.index == len(steps) - 1
    qtbot.keyClick(window.timeline.plot, Qt.Key.Key_Escape)
    assert not window.story_player.playing and not window.workshop.overlay.isVisible()


def test_editing_a_story_is_saved_and_undoable(qtbot, window: MainWindow, store: Store) -> None:
    editor = window.workshop.edit_stories()
    story_id = editor.story_id()
    before = editor.captions()
    with store.read() as s:
        deal = s.exec(select(m.Deal).where(m.Deal.amount_usd == 4.76e9)).one()
    window.state.select(RecordRef("deal", deal.id))
    window.timeline.set_view_range(19000, 21000)
    editor.add_current_view("Property: a big bet on Indian offices and homes.")
    steps = store.story_steps(story_id)
    assert [s.caption for s in steps] == [*before, "Property: a big bet on Indian offices and homes."]
    assert store.ids_for_uuids(steps[-1].selection) == [("deal", deal.id)]
    assert (steps[-1].start_day, steps[-1].end_day) == pytest.approx((19000, 21000), abs=1)

    editor.steps.setCurrentRow(len(steps) - 1)
    qtbot.mouseClick(editor.up_button, Qt.MouseButton.LeftButton)
    moved = editor.captions()
    assert moved[-2] == "Property: a big bet on Indian offices and homes." and moved[-1] == before[-1]

    editor.caption.setPlainText("Property, reworded.")
    qtbot.mouseClick(editor.save_caption_button, Qt.MouseButton.LeftButton)
    assert editor.captions()[-2] == "Property, reworded."

    editor.steps.setCurrentRow(0)
    qtbot.mouseClick(editor.delete_button, Qt.MouseButton.LeftButton)
    assert editor.captions() == [*before[1:-1], "Property, reworded.", before[-1]]
    undo = window.editing.undo_action
    undo.trigger()  # the delete
    assert editor.captions()[0] == before[0]
    undo.trigger()  # the caption
    assert "Property: a big bet on Indian offices and homes." in editor.captions()
    undo.trigger()  # the move (one macro)
    assert editor.captions() == [*before, "Property: a big bet on Indian offices and homes."]
    undo.trigger()  # the add
    assert editor.captions() == before
    window.editing.redo_action.trigger()
    assert editor.captions() == [*before, "Property: a big bet on Indian offices and homes."]


def test_story_pdf_has_one_page_per_step_with_its_caption(
    qtbot, window: MainWindow, store: Store, tmp_path: Path
) -> None:
    from pypdf import PdfReader

    story_id = store.list_stories()[0][0]
    steps = store.story_steps(story_id)
    out = tmp_path / "story.pdf"
    assert window.workshop.export_story_pdf(out, story_id)
    reader = PdfReader(str(out))
    assert len(reader.pages) == len(steps)
    for page, step in zip(reader.pages, steps, strict=True):
        text = " ".join(page.extract_text().split())
        assert " ".join(step.caption.split()[:4]) in text
        assert "Sources" in text
    assert not window.story_player.playing


def test_timeline_png_and_svg_exports_open_and_show_the_timeline(window: MainWindow, tmp_path: Path) -> None:
    png, svg = tmp_path / "t.png", tmp_path / "t.svg"
    assert window.workshop.export_timeline("png", png)
    assert window.workshop.export_timeline("svg", svg)
    image = QImage(str(png))
    assert image.width() > 400 and image.height() > 200
    colours = {image.pixelColor(x, y).name() for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 8  # drawn items, not a blank page
    from PySide6.QtSvg import QSvgRenderer

    assert QSvgRenderer(str(svg)).isValid()
    text = svg.read_text(encoding="utf-8")
    assert "Summits" in text and "2020" in text


def test_selection_exports_to_csv(window: MainWindow, store: Store, tmp_path: Path) -> None:
    with store.read() as s:
        pledge = s.exec(select(m.Pledge).where(m.Pledge.amount == 10e12)).one()
    window.state.select(RecordRef("pledge", pledge.id))
    out = tmp_path / "sel.csv"
    assert window.workshop.export_csv(out)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert len(rows) == 1 and rows[0]["uuid"] == pledge.uuid and rows[0]["currency"] == "JPY"
    assert float(rows[0]["amount_usd"]) == pytest.approx(68e9)
    assert "A $68 Billion Commitment" in rows[0]["sources"]


def test_presentation_mode_is_full_screen_large_and_remembered(qtbot, window: MainWindow) -> None:
    app = QApplication.instance()
    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert window.presentation.active and window.isFullScreen()
    assert not window.menuBar().isVisible() and not window.filter_bar.isVisible()
    assert app.font().pointSizeF() >= 2 * BASE_POINT_SIZE - 0.01
    assert app.property("explorer_theme") == "contrast"
    qtbot.keyClick(window, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    bigger = app.font().pointSizeF()
    assert bigger > 2 * BASE_POINT_SIZE
    window.presentation._idle.setInterval(10)
    window.presentation._idle.start()
    qtbot.waitUntil(lambda: window.presentation.pointer_hidden, timeout=2000)
    qtbot.mouseMove(window.timeline.plot.viewport())
    assert not window.presentation.pointer_hidden
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.presentation.active and not window.isFullScreen()
    assert window.menuBar().isVisible() and window.filter_bar.isVisible()
    assert app.font().pointSizeF() == pytest.approx(BASE_POINT_SIZE)
    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert app.font().pointSizeF() == pytest.approx(bigger)  # remembered
    window.presentation.leave()
    qtbot.keyClick(window, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    desk = app.font().pointSizeF()
    assert desk > BASE_POINT_SIZE
    qtbot.keyClick(window, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert app.font().pointSizeF() == pytest.approx(BASE_POINT_SIZE)


def test_reset_demo_keeps_a_backup_and_shows_pristine_data(qtbot, user_data_dir: Path) -> None:
    from explorer.store import ensure_demo_copy

    path = ensure_demo_copy()
    store = open_store(path)
    win = MainWindow(AppState(store))
    qtbot.addWidget(win)
    win.show()
    with store.read() as s:
        deal = s.exec(select(m.Deal).where(m.Deal.amount_usd == 4.76e9)).one()
    store.update("deal", deal.id, {"notes": "Changed in the workshop."}, expected_version=deal.version)
    store.create("sector", {"name": "Workshop scribbles"})
    backup = win.workshop.reset_demo(confirm=False)
    assert backup is not None and backup.exists() and backup.is_relative_to(user_data_dir)
    old = open_store(backup, read_only=True)
    assert old.snapshot("deal", deal.id)[1]["notes"] == "Changed in the workshop."
    old.close()
    fresh = win.state.store
    assert fresh.path.resolve() == path.resolve()
    names = {n for _i, n in fresh.list_records("sector")}
    assert "Workshop scribbles" not in names
    with fresh.read() as s:
        restored = s.exec(select(m.Deal).where(m.Deal.amount_usd == 4.76e9)).one()
    assert restored.notes != "Changed in the workshop."
    assert "Workshop scribbles" not in {
        win.tree_view.model.node(win.tree_view.model.index(r, 0)).name for r in range(win.tree_view.model.rowCount())
    }


def test_hand_outs_print_what_analysts_typed_as_text(window: MainWindow, store: Store) -> None:
    """A record called "R&D <Labs>" with notes "<b>not bold</b>" prints as typed in a PDF
    hand-out (it was read as markup), and so does a story caption on screen."""
    from PySide6.QtGui import QTextDocument

    from explorer.views.exports import record_html

    changes = store.create(
        "organisation", {"name": "R&D <Labs> Pvt", "kind": "company", "notes": "<b>not bold</b> & more"}
    )
    window.state.notify_changed(changes)
    ref = RecordRef("organisation", changes.changes[0].record_id)
    doc = QTextDocument()
    doc.setHtml(record_html(window.state, ref))
    printed = doc.toPlainText()
    assert "R&D <Labs> Pvt" in printed and "<b>not bold</b> & more" in printed
    window.workshop.overlay.show_step(0, 1, "<i>Pledges</i> & deals")
    assert window.workshop.overlay.caption.textFormat() == Qt.TextFormat.PlainText
