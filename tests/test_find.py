"""Find anything: typing in the search field lists records of every type; Enter picks one."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from explorer.state import RecordRef
from explorer.store import Store
from explorer.views.main_window import MainWindow


def type_query(qtbot, window: MainWindow, text: str) -> None:
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert window.search_edit.hasFocus()
    qtbot.keyClicks(window.search_edit, text)
    popup = window.find.popup
    qtbot.waitUntil(lambda: popup.isVisible(), timeout=2000)


def rows(window: MainWindow) -> list[tuple[str, str, str]]:
    model = window.find.popup.model
    return [tuple(model.index(r, c).data() for c in range(3)) for r in range(model.rowCount())]


def test_a_person_is_found_and_enter_selects_them_everywhere(qtbot, window: MainWindow, store: Store) -> None:
    type_query(qtbot, window, "Ishiba")
    listed = rows(window)
    assert listed[0][:2] == ("Shigeru Ishiba", "Person")
    assert any(kind == "Visit" and date for _t, kind, date in listed)  # events carry their date
    assert not window.state.filters.text  # picking, not filtering: every view still shows everything
    qtbot.keyClick(window.search_edit, Qt.Key.Key_Return)
    current = window.state.current
    assert current is not None and current.record_type == "person"
    assert not window.find.popup.isVisible()
    assert "Shigeru Ishiba" in window.detail.browser.toPlainText()
    assert window.detail.browser.hasFocus()  # a person is read in the details


def test_places_and_sources_are_found_too(qtbot, window: MainWindow) -> None:
    for text, record_type, title in (
        ("New Delhi", "place", "New Delhi"),
        ("New Era", "source", "India-Japan Partnership"),
    ):
        window.search_edit.clear()
        type_query(qtbot, window, text)
        qtbot.keyClick(window.search_edit, Qt.Key.Key_Return)
        current = window.state.current
        assert current is not None and current.record_type == record_type
        assert title in window.detail.browser.toPlainText()


def test_arrows_move_in_the_list_and_enter_picks_that_row(qtbot, window: MainWindow) -> None:
    type_query(qtbot, window, "Automaker plant")
    listed = rows(window)
    assert len(listed) >= 3
    qtbot.keyClick(window.search_edit, Qt.Key.Key_Down)
    qtbot.keyClick(window.search_edit, Qt.Key.Key_Down)
    qtbot.keyClick(window.search_edit, Qt.Key.Key_Up)
    qtbot.keyClick(window.search_edit, Qt.Key.Key_Return)
    current = window.state.current
    assert current is not None
    assert window.state.store.get(current.record_type, current.record_id).title == listed[1][0]


def test_enter_on_a_company_selects_its_deal_and_the_timeline_zooms_in(qtbot, window: MainWindow) -> None:
    timeline = window.timeline
    timeline.range_animation_ms = 0
    start, end = timeline.view_range()
    type_query(qtbot, window, "Sumitomo")
    qtbot.keyClick(window.search_edit, Qt.Key.Key_Return)
    current = window.state.current
    assert current is not None and current.record_type == "deal"
    a, b = timeline.view_range()
    assert b - a < (end - start) / 20  # from decades to a few months
    pos = timeline.item_view_pos(current)
    assert pos is not None and timeline.plot.viewport().rect().contains(pos)
    assert current in timeline.highlighted_refs()
    assert window.tree_view.selected_refs() == [current]
    assert timeline.plot.hasFocus()  # the keyboard goes on from the picked item


def test_zero_hits_says_so(qtbot, window: MainWindow) -> None:
    type_query(qtbot, window, "zzqx nothing")
    popup = window.find.popup
    assert popup.model.rowCount() == 0
    assert popup.message.isVisible() and "Nothing matches" in popup.message.text()
    qtbot.keyClick(window.search_edit, Qt.Key.Key_Escape)
    assert not popup.isVisible()


def test_alt_enter_and_the_toggle_filter_every_view(qtbot, window: MainWindow) -> None:
    all_shown = window.timeline.shown_count()
    type_query(qtbot, window, "Astroscale")
    qtbot.keyClick(window.search_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.AltModifier)
    window.state.wait_idle()
    assert window.state.filters.text == "Astroscale"
    assert 0 < window.timeline.shown_count() < all_shown
    window.search_edit.clear()
    qtbot.waitUntil(lambda: not window.state.filters.text, timeout=2000)
    window.find.filter_action.setChecked(True)
    qtbot.keyClicks(window.search_edit, "Nippon Steel")
    qtbot.waitUntil(lambda: window.state.filters.text == "Nippon Steel", timeout=2000)
    assert not window.find.popup.isVisible()


def test_the_list_stays_inside_a_narrow_window(qtbot, window: MainWindow) -> None:
    window.resize(760, 520)
    QApplication.processEvents()
    type_query(qtbot, window, "India")
    popup = window.find.popup
    assert window.rect().contains(popup.geometry())
    assert popup.geometry().top() >= window.search_edit.mapTo(window, window.search_edit.rect().bottomLeft()).y()


def test_clicking_a_row_picks_it(qtbot, window: MainWindow) -> None:
    type_query(qtbot, window, "New Delhi")
    view = window.find.popup.view
    rect = view.visualRect(window.find.popup.model.index(0, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.state.current is not None and window.state.current.record_type == "place"
    assert "New Delhi" in window.detail.browser.toPlainText()


def test_uncited_records_are_flagged_and_findable(qtbot, window: MainWindow) -> None:
    store = window.state.store
    made = store.create("person", {"name": "Uncited Person", "role": "Envoy"}).changes[-1].record_id
    window.state.notify_changed(store.create("deal", {"title": "Uncited deal", "kind": "project"}))
    type_query(qtbot, window, "uncited")
    listed = rows(window)
    assert any(t == "Uncited deal" for t, *_ in listed)
    assert any(t == "Uncited Person" for t, *_ in listed)
    cited_titles = {
        store.get(r.record_type, r.record_id).title
        for r in window.timeline.shown_refs()
        if r.record_type == "deal" and store.citations_of("deal", r.record_id)
    }
    assert not cited_titles & {t for t, *_ in listed}  # only records without a source
    window.state.select(RecordRef("person", made))
    assert "No source cited yet" in window.detail.browser.toPlainText()
