"""The main window: three linked views driven through their widgets, filters, history, settings."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from sqlmodel import select

from explorer import models as m
from explorer.state import AppState, RecordRef
from explorer.store import Store, open_store
from explorer.views.main_window import MainWindow

ROOT = Path(__file__).resolve().parent.parent
TIMELINE_TYPES = {"event", "pledge", "deal", "initiative", "target"}


def first_id(store: Store, cls: type, *where) -> int:
    with store.read() as s:
        return s.exec(select(cls.id).where(*where)).first()


def click_tree(qtbot, win: MainWindow, ref: RecordRef) -> None:
    index = win.tree_view.index_of(ref)
    assert index.isValid(), ref
    parent = index.parent()
    while parent.isValid():
        win.tree_view.tree.expand(parent)
        parent = parent.parent()
    win.tree_view.tree.scrollTo(index)
    rect = win.tree_view.tree.visualRect(index)
    qtbot.mouseClick(win.tree_view.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_clicking_an_organisation_highlights_exactly_its_deals(qtbot, window: MainWindow, store: Store) -> None:
    oid = first_id(store, m.Organisation, m.Organisation.name.contains("Nippon Steel"))
    click_tree(qtbot, window, RecordRef("organisation", oid))
    expected = sorted(RecordRef("deal", d.id) for d in store.deals_of_organisation(oid))
    assert len(expected) >= 2
    assert window.timeline.highlighted_refs() == expected
    assert "Nippon Steel" in window.detail.plain_text()
    start, end = window.timeline.view_range()
    for ref in expected:
        deal = store.get("deal", ref.record_id)
        assert start <= deal.start_day <= end  # scrolled into view


def test_clicking_a_timeline_item_expands_the_tree_and_fills_the_detail(
    qtbot, window: MainWindow, store: Store
) -> None:
    with store.read() as s:
        deal = s.exec(select(m.Deal).where(m.Deal.title.contains("iogas"))).first()
    ref = RecordRef("deal", deal.id)
    window.timeline.set_view_range(deal.start_day - 400, deal.start_day + 400)
    pos = window.timeline.item_view_pos(ref)
    qtbot.mouseClick(window.timeline.plot.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert window.state.selection == [ref]
    assert window.tree_view.selected_refs() == [ref]
    index = window.tree_view.tree.selectionModel().selectedRows()[0]
    assert window.tree_view.tree.isExpanded(index.parent())
    assert deal.title in window.detail.plain_text()


def test_following_a_detail_link_moves_every_view(qtbot, window: MainWindow, store: Store) -> None:
    pledge_id = first_id(store, m.Pledge, m.Pledge.amount == 10e12)
    summit_id = first_id(store, m.Event, m.Event.summit_number == 15)
    window.state.select(RecordRef("pledge", pledge_id))
    from PySide6.QtCore import QUrl

    window.detail.browser.anchorClicked.emit(QUrl(f"record:event:{summit_id}"))
    assert window.state.current == RecordRef("event", summit_id)
    assert RecordRef("event", summit_id) in window.timeline.highlighted_refs()
    assert "15th" in window.detail.plain_text()
    qtbot.keyClick(window, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert window.state.current == RecordRef("pledge", pledge_id)
    assert window.timeline.highlighted_refs() == [RecordRef("pledge", pledge_id)]
    qtbot.keyClick(window, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert window.state.current == RecordRef("event", summit_id)


def test_sector_filter_and_date_range_make_all_views_agree(qtbot, window: MainWindow, store: Store) -> None:
    combo = window.sector_combo
    index = next(i for i in range(combo.count()) if combo.itemText(i).strip() == "Manufacturing")
    combo.setCurrentIndex(index)
    start = (2024 - 1970) * 365
    window.state.set_date_range(start, start + 3 * 365)
    filters = window.state.filters
    assert filters.sector_ids and filters.start_day == start
    expected = store.timeline(filters=filters)
    expected_refs = sorted(
        RecordRef(("event", "pledge", "deal", "initiative", "target")[t], int(i))
        for t, i in zip(expected.record_type, expected.record_id, strict=True)
    )
    assert window.timeline.shown_refs() == expected_refs
    tree_deals = {r for r in window.tree_view.model.visible_refs() if r.record_type == "deal"}
    assert tree_deals == {r for r in expected_refs if r.record_type == "deal"}
    assert tree_deals, "manufacturing deals in 2024–2027"
    for ref in tree_deals:
        deal = store.get("deal", ref.record_id)
        assert deal.sector_id in filters.sector_ids
    assert f"{len(expected_refs):,} dated records shown" in window.count_label.text()
    click_tree(qtbot, window, sorted(tree_deals)[0])
    assert store.get("deal", sorted(tree_deals)[0].record_id).title in window.detail.plain_text()


def test_filtering_leaves_the_timeline_plot_where_it_is(qtbot, window: MainWindow) -> None:
    """A filter that leaves fewer colours in the legend must not move the plot under it (on a
    projector the whole chart jumped, and jumped back when the filter was cleared)."""
    plot = window.timeline.plot

    def placed() -> tuple[int, int]:
        qtbot.wait(10)  # let the layout settle
        return plot.mapTo(window, plot.rect().topLeft()).y(), plot.height()

    before = placed()
    combo = window.sector_combo
    combo.setCurrentIndex(next(i for i in range(combo.count()) if combo.itemText(i).strip() == "Aerospace and space"))
    assert window.state.filters.sector_ids and placed() == before
    qtbot.keyClicks(window.search_edit, "zzzz nothing matches this")
    qtbot.keyClick(window.search_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.AltModifier)
    assert window.timeline.shown_refs() == [] and placed() == before
    window.state.clear_filters()
    assert placed() == before


def test_search_field_filters_all_views(qtbot, window: MainWindow, store: Store) -> None:
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.search_edit.hasFocus()
    qtbot.keyClicks(window.search_edit, "Astroscale")
    qtbot.keyClick(window.search_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.AltModifier)  # filter, not pick
    shown = window.timeline.shown_refs()
    assert shown and all(store.get(r.record_type, r.record_id) for r in shown)
    titles = [store.get(r.record_type, r.record_id).title for r in shown if r.record_type == "deal"]
    assert titles and all("Astroscale" in t or "ISRO" in t for t in titles)
    orgs = {r for r in window.tree_view.model.visible_refs() if r.record_type == "organisation"}
    names = {store.get("organisation", r.record_id).name for r in orgs}
    assert any("Astroscale" in n for n in names)
    assert not any("Sumitomo" in n for n in names)


def test_layout_and_selection_are_restored_after_reopening(qtbot, store: Store, demo_path: Path) -> None:
    win = MainWindow(AppState(store))
    qtbot.addWidget(win)
    win.show()
    pledge_id = first_id(store, m.Pledge, m.Pledge.amount == 10e12)
    win.state.select(RecordRef("pledge", pledge_id))
    win.detail_dock.hide()
    win.timeline.set_view_range(15000, 16000)
    win.close()
    second_store = open_store(demo_path)
    again = MainWindow(AppState(second_store))
    qtbot.addWidget(again)
    again.show()
    assert again.state.selection == [RecordRef("pledge", pledge_id)]
    assert again.detail_dock.isHidden()
    start, end = again.timeline.view_range()
    assert abs(start - 15000) < 5 and abs(end - 16000) < 5
    second_store.close()


def test_screenshot_command_writes_a_png(tmp_path: Path, demo_path: Path) -> None:
    out = tmp_path / "shot.png"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "explorer",
            "--db",
            str(demo_path),
            "--screenshot",
            str(out),
            "--select",
            "pledge:10 trillion",
            "--size",
            "1280x720",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert (image.width(), image.height()) == (1280, 720)


def test_no_widget_opens_a_database_session() -> None:
    offenders = []
    for folder in ("views", "itemmodels", "forms"):
        for path in (ROOT / "explorer" / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                    offenders += [
                        f"{path.name} imports {n}"
                        for n in names
                        if n.split(".")[0] in ("sqlalchemy", "sqlmodel", "sqlite3")
                    ]
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr in ("read", "write", "engine", "session")
                    and isinstance(node.value, ast.Attribute)
                    and node.value.attr == "store"
                ):
                    offenders.append(f"{path.name} uses store.{node.attr}")
    assert offenders == []
