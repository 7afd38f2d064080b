"""The relationship map in the window: linked both ways through AppState, filtered by the global
filters and the date range, hit-tested, kept by story steps, exported."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QFontMetricsF, QImage, QMouseEvent
from PySide6.QtWidgets import QApplication
from sqlmodel import select

from explorer import models as m
from explorer.state import RecordRef
from explorer.store import Store
from tests.test_main_window import click_tree
from tests.test_relationship_map_model import deal_with_everything


def open_map(qtbot, window):  # type: ignore[no-untyped-def]
    window.focus_map_action.trigger()
    qtbot.waitExposed(window.map)
    return window.map


def wait_map(qtbot, view) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not view.busy, timeout=20_000)


def click_node(qtbot, view, key, button=Qt.MouseButton.LeftButton) -> QPoint:  # type: ignore[no-untyped-def]
    at = view.node_pixel(key)
    assert at is not None
    point = at.toPoint()
    qtbot.mouseClick(view.canvas, button, pos=point)
    return point


def test_the_map_is_a_dock_opened_by_ctrl_5_and_reads_nothing_while_closed(qtbot, window, store: Store) -> None:
    assert not window.map_dock.isVisible()
    assert window.focus_map_action.shortcut().toString() == "Ctrl+5"
    assert window.map_dock.toggleViewAction() in window.view_menu.actions()
    deal = deal_with_everything(store)
    window.state.select(RecordRef("deal", deal.id))
    assert window.map.job is None and not window.map.graph.nodes  # closed: nothing read
    view = open_map(qtbot, window)
    wait_map(qtbot, view)
    assert ("deal", deal.id) in view.graph.nodes


def test_selecting_a_deal_in_the_tree_shows_its_organisations_pledge_event_and_place(
    qtbot, window, store: Store
) -> None:
    deal = deal_with_everything(store)
    view = open_map(qtbot, window)
    click_tree(qtbot, window, RecordRef("deal", deal.id))
    assert window.state.current == RecordRef("deal", deal.id)
    wait_map(qtbot, view)
    root = ("deal", deal.id)
    edges = {e.other(root): e for e in view.graph.edges_of(root)}
    with store.read() as s:
        orgs = s.exec(select(m.DealOrganisation).where(m.DealOrganisation.deal_id == deal.id)).all()
    assert edges[("pledge", deal.pledge_id)].type_key == "deal.pledge_id"
    assert edges[("event", deal.event_id)].type_key == "deal.event_id"
    assert edges[("place", deal.place_id)].type_key == "deal.place_id"
    for link in orgs:
        assert edges[("organisation", link.organisation_id)].relation == link.role
    # highlighted: the deal and its neighbours; the root is centred in the view
    assert root in view._highlight and ("pledge", deal.pledge_id) in view._highlight
    legend = view.legend.text().replace("&nbsp;", " ")
    assert "under pledge" in legend and "signed at" in legend


def test_clicking_a_node_selects_it_in_the_timeline_tree_and_details(qtbot, window, store: Store) -> None:
    deal = deal_with_everything(store)
    view = open_map(qtbot, window)
    window.state.select(RecordRef("deal", deal.id))
    wait_map(qtbot, view)
    pledge = ("pledge", deal.pledge_id)
    click_node(qtbot, view, pledge)
    ref = RecordRef(*pledge)
    assert window.state.current == ref
    assert ref in window.timeline.highlighted_refs()
    title = store.get("pledge", deal.pledge_id).title
    assert title in window.detail.plain_text()
    # the map keeps its centre (the deal) and highlights the pledge and its neighbours
    assert view.roots == [("deal", deal.id)] and pledge in view._selected
    # an organisation clicked shows in the tree as the current row
    org = next(k for k in view.graph.nodes if k[0] == "organisation")
    click_node(qtbot, view, org)
    assert RecordRef(*org) in window.tree_view.selected_refs()


def test_hit_testing_picks_the_node_under_the_pointer_and_nothing_beside_it(qtbot, window, store: Store) -> None:
    deal = deal_with_everything(store)
    view = open_map(qtbot, window)
    window.state.select(RecordRef("deal", deal.id))
    wait_map(qtbot, view)
    for key in list(view.scene.keys)[:15]:
        at = view.node_pixel(key)
        assert at is not None
        found = view.node_at(at.x(), at.y())
        assert found == key
        radius = float(view.scene.radius[view.scene.index[key]])
        nearest_other = min(
            (
                ((view.node_pixel(k).x() - at.x()) ** 2 + (view.node_pixel(k).y() - at.y()) ** 2) ** 0.5  # type: ignore[union-attr]
                for k in view.scene.keys
                if k != key
            ),
            default=1e9,
        )
        if nearest_other > 2 * (radius + 20):
            assert view.node_at(at.x() + radius + 12, at.y()) is None  # just beside it: nothing


def test_a_date_range_filter_removes_the_edges_outside_it(qtbot, window, store: Store) -> None:
    view = open_map(qtbot, window)
    with store.read() as s:
        pledgers = s.exec(select(m.Pledge.pledger_id).where(m.Pledge.start_day.is_not(None))).all()
    country = max(set(pledgers), key=pledgers.count)  # Japan: its pledges over the years
    root = ("country", country)
    window.state.select(RecordRef(*root))
    wait_map(qtbot, view)
    before = {e.other(root) for e in view.graph.edges_of(root)}
    pledges = sorted(
        (store.get("pledge", k[1]) for k in before if k[0] == "pledge"),
        key=lambda p: p.start_day,  # type: ignore[arg-type, return-value, union-attr]
    )
    assert len({p.start_day for p in pledges}) >= 2, "the country pledged at different dates"  # type: ignore[union-attr]
    keep = pledges[-1]
    last = keep.end_day if keep.end_day is not None else keep.start_day  # type: ignore[union-attr]
    window.state.set_date_range(keep.start_day, last)  # type: ignore[union-attr]
    wait_map(qtbot, view)
    after = {e.other(root) for e in view.graph.edges_of(root)}
    for p in pledges:
        start, end = p.start_day, p.end_day if p.end_day is not None else p.start_day  # type: ignore[union-attr]
        inside = end >= keep.start_day and start <= last  # type: ignore[operator, union-attr]
        assert (("pledge", p.id) in after) == inside
    assert ("pledge", keep.id) in after and len([k for k in after if k[0] == "pledge"]) < len(pledges)
    assert all(k in before for k in after)
    assert "outside the filters" in view.note.text()
    window.state.set_date_range(None, None)
    wait_map(qtbot, view)
    assert {e.other(root) for e in view.graph.edges_of(root)} == before


def test_dragging_a_node_pins_it_and_the_wheel_zooms(qtbot, window, store: Store) -> None:
    deal = deal_with_everything(store)
    view = open_map(qtbot, window)
    window.state.select(RecordRef("deal", deal.id))
    wait_map(qtbot, view)
    key = ("place", deal.place_id)
    start = view.node_pixel(key).toPoint()  # type: ignore[union-attr]
    qtbot.mousePress(view.canvas, Qt.MouseButton.LeftButton, pos=start)
    end = start + QPoint(40, 25)
    for step in range(1, 6):
        p = QPointF(start + (end - start) * step / 5)
        QApplication.sendEvent(
            view.canvas,
            QMouseEvent(
                QEvent.Type.MouseMove,
                p,
                view.canvas.mapToGlobal(p),
                Qt.MouseButton.NoButton,
                Qt.MouseButton.LeftButton,
                Qt.KeyboardModifier.NoModifier,
            ),
        )
    qtbot.mouseRelease(view.canvas, Qt.MouseButton.LeftButton, pos=end)
    assert key in view.pinned
    moved = view.node_pixel(key)
    assert abs(moved.x() - end.x()) < 2 and abs(moved.y() - end.y()) < 2  # type: ignore[union-attr]
    assert window.state.current == RecordRef("deal", deal.id)  # a drag is not a click
    zoom = view.canvas.transform.zoom
    view.zoom(1.25)
    assert view.canvas.transform.zoom > zoom


def test_double_clicking_a_node_expands_it(qtbot, window, store: Store) -> None:
    deal = deal_with_everything(store)
    view = open_map(qtbot, window)
    view.hops_box.setCurrentIndex(0)  # one link away
    window.state.select(RecordRef("deal", deal.id))
    wait_map(qtbot, view)
    place = ("place", deal.place_id)
    before = set(view.graph.nodes)
    at = view.node_pixel(place).toPoint()  # type: ignore[union-attr]
    qtbot.mouseDClick(view.canvas, Qt.MouseButton.LeftButton, pos=at)
    wait_map(qtbot, view)
    assert set(view.graph.nodes) > before
    assert ("country", store.get("place", deal.place_id).country_id) in view.graph.nodes


def test_labels_never_overlap_each_other_or_a_node(qtbot, window, store: Store) -> None:
    view = open_map(qtbot, window)
    window.state.select(RecordRef("sector", store.list_records("sector")[0][0]))
    wait_map(qtbot, view)
    placed = view.placed_labels(view.canvas.transform, view.canvas.label_font())
    assert placed
    rects = [p.rect for p in placed]
    for i, a in enumerate(rects):
        for b in rects[i + 1 :]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])
    pixels = view.scene.pixels(view.canvas.transform)
    for x0, y0, x1, y1 in [p.rect for p in placed if not p.pill]:  # a pill (the centre's name) sits over
        for (px, py), r in zip(pixels, view.scene.radius, strict=True):
            assert not (x0 < px + r and px - r < x1 and y0 < py + r and py - r < y1)


def test_no_name_is_cut_off_at_the_edge_of_a_low_map(qtbot, window, store: Store) -> None:
    """A projector's large type on a low map: names that do not fit inside are left out, never
    drawn half outside (the selected organisation's name had lost its top half)."""
    view = open_map(qtbot, window)
    window.state.select(RecordRef("sector", store.list_records("sector")[0][0]))
    wait_map(qtbot, view)
    font = view.canvas.label_font()
    font.setPointSizeF(font.pointSizeF() * 2)
    fitted = view.scene.fit(700.0, 400.0)
    assert view.placed_labels(fitted, font)  # names fit on a map of ordinary height
    # A strip lower than one line of that type, centred on the map's middle: no name fits in it.
    t = dataclasses.replace(fitted, height=0.8 * QFontMetricsF(font).height())
    placed = view.placed_labels(t, font)
    for x0, y0, x1, y1 in (p.rect for p in placed):
        assert x0 >= 0 and y0 >= 0 and x1 <= t.width and y1 <= t.height, (x0, y0, x1, y1, t.width, t.height)


def test_a_story_step_restores_the_maps_view(qtbot, window, store: Store) -> None:
    deal = deal_with_everything(store)
    view = open_map(qtbot, window)
    window.state.select(RecordRef("deal", deal.id))
    wait_map(qtbot, view)
    view.zoom(1.6)
    view.centre_on(("place", deal.place_id))
    saved = view.canvas.transform
    editor = window.workshop.edit_stories()
    editor.new_story("Map story")
    editor.add_current_view("The deal and who is behind it")
    steps = store.story_steps(editor.story_id())
    assert "map" in steps[-1].filters["views"]
    json.dumps(steps[-1].filters)  # kept as JSON in the step
    editor.close()
    # elsewhere meanwhile: another record, the map closed
    window.state.select(RecordRef("country", store.list_records("country")[0][0]))
    window.map_dock.hide()
    assert window.story_player.play(editor.story_id())
    qtbot.waitUntil(lambda: window.map_dock.isVisible(), timeout=5000)
    wait_map(qtbot, view)
    assert view.roots == [("deal", deal.id)]
    t = view.canvas.transform
    assert abs(t.zoom - saved.zoom) < 1e-6 and abs(t.cx - saved.cx) < 1e-6 and abs(t.cy - saved.cy) < 1e-6
    window.story_player.stop()


def test_the_map_exports_png_and_svg(qtbot, window, store: Store, tmp_path: Path) -> None:
    deal = deal_with_everything(store)
    view = open_map(qtbot, window)
    window.state.select(RecordRef("deal", deal.id))
    wait_map(qtbot, view)
    png, svg = tmp_path / "map.png", tmp_path / "map.svg"
    view.export_png(png)
    view.export_svg(svg)
    image = QImage(str(png))
    assert image.width() >= view.canvas.width() and not image.isNull()
    text = svg.read_text(encoding="utf-8")
    drawn = view.placed_labels(view.canvas.transform, view.canvas.label_font())
    assert ("deal", deal.id) in {p.key for p in drawn}  # the centre's name is always drawn
    assert "<svg" in text and store.get("deal", deal.id).title.split()[0] in text


def test_presentation_mode_hides_the_maps_controls(qtbot, window, store: Store) -> None:
    view = open_map(qtbot, window)
    window.presentation.enter()
    assert not view.hops_box.isVisible() and view.canvas.isVisible()
    window.presentation.leave()
    assert view.hops_box.isVisible()


def test_with_nothing_selected_the_map_is_an_overview_of_sectors_and_countries(
    qtbot, window, store: Store, built_demo: Path
) -> None:
    window.state.select(None)
    view = open_map(qtbot, window)
    wait_map(qtbot, view)
    conn = sqlite3.connect(built_demo)
    expected = {
        (("sector", s), ("country", c)): n
        for s, c, n in conn.execute(
            "SELECT d.sector_id, o.country_id, count(DISTINCT d.id) FROM deal d "
            "JOIN dealorganisation x ON x.deal_id = d.id JOIN organisation o ON o.id = x.organisation_id "
            "WHERE d.sector_id IS NOT NULL AND o.country_id IS NOT NULL GROUP BY 1, 2"
        )
    }
    conn.close()
    assert expected
    assert {(e.a, e.b): e.count for e in view.graph.edges} == expected
    assert {k[0] for k in view.graph.nodes} == {"sector", "country"}
    assert "by sector and country" in view.note.text()


def test_the_same_data_gives_the_same_picture(qtbot, window, store: Store) -> None:
    deal = deal_with_everything(store)
    view = open_map(qtbot, window)
    qtbot.wait(50)  # the dock at its size (the picture is laid out for the dock's shape)
    window.state.select(RecordRef("deal", deal.id))
    wait_map(qtbot, view)
    first = view.scene.positions()
    window.state.select(RecordRef("country", store.list_records("country")[0][0]))
    wait_map(qtbot, view)
    assert view.scene.positions() != first
    window.state.select(RecordRef("deal", deal.id))
    wait_map(qtbot, view)
    assert view.scene.positions() == first


def test_filters_set_while_the_map_is_closed_apply_when_it_opens(qtbot, window, store: Store) -> None:
    with store.read() as s:
        pledgers = s.exec(select(m.Pledge.pledger_id).where(m.Pledge.start_day.is_not(None))).all()
    root = ("country", max(set(pledgers), key=pledgers.count))
    view = open_map(qtbot, window)
    window.state.select(RecordRef(*root))
    wait_map(qtbot, view)
    pledges = [k for k in view.graph.neighbours(root) if k[0] == "pledge"]
    window.map_dock.hide()
    last = store.get(*pledges[0])
    window.state.set_date_range(last.start_day, last.start_day)  # type: ignore[attr-defined]
    assert view.job is None  # closed: nothing worked out
    open_map(qtbot, window)
    wait_map(qtbot, view)
    shown = [k for k in view.graph.neighbours(root) if k[0] == "pledge"]
    assert pledges[0] in shown and len(shown) < len(pledges)


def test_following_the_timeline_shows_only_what_is_dated_in_its_view(qtbot, window, store: Store) -> None:
    with store.read() as s:
        pledgers = s.exec(select(m.Pledge.pledger_id).where(m.Pledge.start_day.is_not(None))).all()
    root = ("country", max(set(pledgers), key=pledgers.count))
    view = open_map(qtbot, window)
    window.state.select(RecordRef(*root))
    wait_map(qtbot, view)
    pledges = sorted(
        (store.get(*k) for k in view.graph.neighbours(root) if k[0] == "pledge"), key=lambda p: p.start_day
    )  # type: ignore[attr-defined]
    latest = pledges[-1]
    view.follow_box.setChecked(True)
    window.timeline.set_view_range(latest.start_day - 30, latest.start_day + 30)  # type: ignore[attr-defined]
    wanted = latest.start_day + 30  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: abs((view._filter.end_day or 0) - wanted) < 2, timeout=3000)
    wait_map(qtbot, view)
    shown = {k for k in view.graph.neighbours(root) if k[0] == "pledge"}
    assert ("pledge", latest.id) in shown and len(shown) < len(pledges)
    view.follow_box.setChecked(False)
    wait_map(qtbot, view)
    assert len([k for k in view.graph.neighbours(root) if k[0] == "pledge"]) == len(pledges)


def test_the_global_text_filter_filters_the_map(qtbot, window, store: Store) -> None:
    with store.read() as s:
        pledgers = s.exec(select(m.Pledge.pledger_id).where(m.Pledge.start_day.is_not(None))).all()
    root = ("country", max(set(pledgers), key=pledgers.count))
    view = open_map(qtbot, window)
    window.state.select(RecordRef(*root))
    wait_map(qtbot, view)
    pledges = sorted(k for k in view.graph.neighbours(root) if k[0] == "pledge")
    title = store.get(*pledges[0]).title  # type: ignore[attr-defined]
    window.state.set_search_text(title)
    window.state.wait_idle()
    qtbot.waitUntil(lambda: view._filter.passing is not None, timeout=5000)
    wait_map(qtbot, view)
    shown = {k for k in view.graph.neighbours(root) if k[0] == "pledge"}
    assert pledges[0] in shown and len(shown) < len(pledges)


def test_the_current_views_hand_out_carries_the_map_as_vector_drawing(
    qtbot, window, store: Store, tmp_path: Path
) -> None:
    import re

    from pypdf import PdfReader

    def page(path: Path) -> tuple[int, list[str], str]:
        first = PdfReader(str(path)).pages[0]
        data = first.get_contents().get_data()
        xobjects = first["/Resources"].get("/XObject", {})
        images = [n for n, ref in xobjects.items() if ref.get_object().get("/Subtype") == "/Image"]
        return len(re.findall(rb"\s(?:re|l|c)\s", data)), images, " ".join(first.extract_text().split())

    deal = deal_with_everything(store)
    window.state.select(RecordRef("deal", deal.id))
    without = tmp_path / "without.pdf"
    assert window.workshop.export_view_pdf(without)
    view = open_map(qtbot, window)
    wait_map(qtbot, view)
    with_map = tmp_path / "with-map.pdf"
    assert window.workshop.export_view_pdf(with_map)
    paths_before, _images, _text = page(without)
    paths, images, text = page(with_map)
    assert not images, f"the page holds images {images}"
    assert paths > paths_before + len(view.graph.nodes)  # a mark per node at least, drawn as paths
    with store.read() as s:
        names = [
            s.get(m.Organisation, link.organisation_id).name
            for link in s.exec(  # type: ignore[union-attr]
                select(m.DealOrganisation).where(m.DealOrganisation.deal_id == deal.id)
            ).all()
        ]
    # its labels are text (long names elided as on screen)
    assert any(" ".join(name.split()[:3]) in text for name in names), (names, text[-800:])
    assert window.map_dock.isVisible()  # the export gave the dock back


def test_the_legend_is_never_cut_off_at_a_projectors_type_size(qtbot, window, store: Store) -> None:
    deal = deal_with_everything(store)
    view = open_map(qtbot, window)
    window.state.select(RecordRef("deal", deal.id))
    wait_map(qtbot, view)
    window.presentation.enter()
    try:
        QApplication.processEvents()
        needed = view.legend.heightForWidth(view.legend.width())
        line = view.legend.fontMetrics().lineSpacing()
        assert needed > 2 * line  # at this size the legend wraps to more than the two lines it had
        assert view.legend.height() >= min(needed, 4 * line)
    finally:
        window.presentation.leave()


def test_a_story_step_that_keeps_the_map_shows_it_on_its_hand_out_page(
    qtbot, window, store: Store, tmp_path: Path
) -> None:
    from pypdf import PdfReader

    deal = deal_with_everything(store)
    view = open_map(qtbot, window)
    window.state.select(RecordRef("deal", deal.id))
    wait_map(qtbot, view)
    editor = window.workshop.edit_stories()
    editor.new_story("Map story")
    editor.add_current_view("The deal and who is behind it")
    window.map_dock.hide()
    editor.add_current_view("The timeline alone")  # the map closed: this step does not keep it
    story_id = editor.story_id()
    editor.close()
    window.state.select(RecordRef("country", store.list_records("country")[0][0]))  # elsewhere now
    out = tmp_path / "story.pdf"
    assert window.workshop.export_story_pdf(out, story_id)
    with store.read() as s:
        names = [
            s.get(m.Organisation, link.organisation_id).name  # type: ignore[union-attr]
            for link in s.exec(select(m.DealOrganisation).where(m.DealOrganisation.deal_id == deal.id)).all()
        ]
    pages = [" ".join(p.extract_text().split()) for p in PdfReader(str(out)).pages]
    assert len(pages) == 2
    assert any(" ".join(n.split()[:3]) in pages[0] for n in names), pages[0][-600:]
    assert not any(" ".join(n.split()[:3]) in pages[1] for n in names)
    assert not window.map_dock.isVisible()  # the export left the window as it was
    assert window.state.current == RecordRef("country", store.list_records("country")[0][0])


def test_file_export_offers_the_map_and_opens_it_to_save_it(
    qtbot, window, store: Store, tmp_path: Path, monkeypatch
) -> None:
    from PySide6.QtWidgets import QFileDialog

    deal = deal_with_everything(store)
    window.state.select(RecordRef("deal", deal.id))
    out = tmp_path / "map.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "PNG (*.png)")))
    action = window.workshop.export_map_action
    file_menu = window.menuBar().actions()[0].menu()
    export_menu = next(a.menu() for a in file_menu.actions() if a.menu() and "xport" in a.text())
    assert action in export_menu.actions()
    assert not window.map_dock.isVisible()
    action.trigger()
    assert window.map_dock.isVisible() and out.exists()
    image = QImage(str(out))
    assert not image.isNull() and image.width() > 200
