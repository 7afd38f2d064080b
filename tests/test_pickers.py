"""Record pickers: type part of a name, pick with the keyboard, and the link changes everywhere.

Pickers ask the store for a few matches of what is typed (Store.pick) instead of listing whole
tables, so forms open at once on a million records; these tests drive them as an analyst would.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from sqlmodel import select

from explorer import models as m
from explorer.forms.editors import PickModel, RecordPicker
from explorer.forms.operations import Operations
from explorer.forms.record_form import FORMS, RecordForm, form_for
from explorer.state import AppState, RecordRef
from explorer.store import Store, open_store, picking
from explorer.views.main_window import MainWindow


def type_and_pick(qtbot, picker: RecordPicker, typed: str, label: str) -> None:
    """Type into a picker, arrow down to ``label`` in its list, press Enter."""
    picker.setFocus()
    picker.clear()
    qtbot.keyClicks(picker, typed)
    popup = picker.completer.popup()
    assert popup.isVisible(), f"no list for {typed!r}"
    labels = [name for _id, name in picker.model.rows]
    assert label in labels, f"{label!r} not offered for {typed!r}: {labels}"
    for _ in range(labels.index(label)):
        qtbot.keyClick(popup, Qt.Key.Key_Down)
    assert popup.currentIndex().data() == label
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert not popup.isVisible()


def save(qtbot, form: RecordForm) -> None:
    assert form.save_button is not None and form.save_button.isEnabled(), form.error_texts()
    qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    assert form.result() == QDialog.DialogCode.Accepted, form.general_messages() or form.error_texts()


def ids_named(store: Store, record_type: str, *names: str) -> list[int]:
    cls = m.RECORD_TYPES[record_type]
    column = getattr(cls, picking.label_column(record_type))
    with store.read() as s:
        found = {
            getattr(r, picking.label_column(record_type)): r.id for r in s.exec(select(cls).where(column.in_(names)))
        }
    return [found[n] for n in names]


def sumitomo_deal(store: Store) -> int:
    with store.read() as s:
        return s.exec(select(m.Deal.id).where(m.Deal.amount_usd == 4.76e9)).one()


def test_changing_a_deals_sector_with_the_keyboard_shows_in_every_view_and_undoes(
    qtbot, window: MainWindow, store: Store
) -> None:
    deal_id = sumitomo_deal(store)
    real_estate, infrastructure = ids_named(store, "sector", "Real estate", "Infrastructure")
    ref = RecordRef("deal", deal_id)
    window.state.select(ref)
    form = window.editing.edit_current()
    picker = form.editors["sector_id"].focus_widget()
    assert picker.text() == "Real estate"  # the current link, by name
    type_and_pick(qtbot, picker, "infra", "Infrastructure")
    assert picker.text() == "Infrastructure" and form.editors["sector_id"].value() == infrastructure
    save(qtbot, form)

    assert store.get("deal", deal_id).sector_id == infrastructure
    shown = window.detail.plain_text()
    before_history = shown.split("\nHistory\n")[0]  # the history names the old sector, by name
    assert "Infrastructure" in before_history and "Real estate" not in before_history
    assert "Sector: Real estate → Infrastructure" in shown
    index = window.tree_view.index_of(ref)
    ancestors = []
    while index.isValid():
        ancestors.append(window.tree_view.model.node(index).name)
        index = index.parent()
    assert "Infrastructure" in ancestors and "Real estate" not in ancestors

    window.editing.undo_action.trigger()
    assert store.get("deal", deal_id).sector_id == real_estate
    window.state.select(ref)
    assert "Real estate" in window.detail.plain_text()
    assert store.detail("deal", deal_id).history[-1].field == "sector_id"


def test_partners_are_added_removed_and_given_roles_with_the_keyboard(qtbot, window: MainWindow, store: Store) -> None:
    deal_id = sumitomo_deal(store)
    sumitomo, toyota, suzuki = ids_named(store, "organisation", "Sumitomo Realty", "Toyota", "Suzuki Motor")
    before = store.snapshot("deal", deal_id)[1]["organisations"]
    assert before == [(sumitomo, "investor")]
    window.state.select(RecordRef("deal", deal_id))
    form = window.editing.edit_current()
    partners = form.editors["organisations"]
    assert [i.text(0) for i in partners.items()] == ["Sumitomo Realty"]

    type_and_pick(qtbot, partners.picker, "toyo", "Toyota")
    type_and_pick(qtbot, partners.picker, "mot", "Suzuki Motor")
    assert partners.picker.text() == ""  # ready for the next one
    partners._roles[toyota].setCurrentText("lead")
    # the old partner is selected and removed with the Delete key
    partners.tree.setFocus()
    partners.tree.setCurrentItem(partners.items()[0])
    qtbot.keyClick(partners.tree, Qt.Key.Key_Delete)
    assert partners.value() == sorted([(toyota, "lead"), (suzuki, "partner")])
    save(qtbot, form)

    assert store.snapshot("deal", deal_id)[1]["organisations"] == sorted([(toyota, "lead"), (suzuki, "partner")])
    linked = {r for r in window.detail.link_targets() if r.record_type == "organisation"}
    assert linked == {RecordRef("organisation", toyota), RecordRef("organisation", suzuki)}
    assert "Lead\nToyota" in window.detail.plain_text()
    window.editing.undo_action.trigger()
    assert store.snapshot("deal", deal_id)[1]["organisations"] == before


def test_participants_are_picked_by_part_of_a_name(qtbot, window: MainWindow, store: Store) -> None:
    with store.read() as s:
        event = s.exec(select(m.Event).where(m.Event.title == "1st India–Japan Annual Summit")).one()
    (modi,) = ids_named(store, "person", "Narendra Modi")
    before = store.snapshot("event", event.id)[1]["participant_ids"]
    window.state.select(RecordRef("event", event.id))
    form = window.editing.edit_current()
    participants = form.editors["participant_ids"]
    type_and_pick(qtbot, participants.picker, "MODI", "Narendra Modi")  # any case, any part of the name
    save(qtbot, form)
    assert store.snapshot("event", event.id)[1]["participant_ids"] == sorted([*before, modi])
    assert "Narendra Modi" in window.detail.plain_text()
    window.editing.undo_action.trigger()
    assert store.snapshot("event", event.id)[1]["participant_ids"] == before


def test_a_name_that_matches_nothing_says_so_and_cannot_be_saved(qtbot, window: MainWindow) -> None:
    form = window.editing.new_record("deal")
    qtbot.keyClicks(form.editors["title"].focus_widget(), "Shipyard")
    picker = form.editors["place_id"].focus_widget()
    picker.setFocus()
    qtbot.keyClicks(picker, "Atlantis")
    popup = picker.completer.popup()
    assert popup.isVisible()
    assert [popup.model().index(r, 0).data() for r in range(popup.model().rowCount())] == [
        "No place matches “Atlantis”."
    ]
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)  # the message is not a record: nothing is picked
    assert picker.text() == "Atlantis"
    assert "Place must be a record picked from the list." in form.error_texts()["place_id"]
    assert not form.save_button.isEnabled()

    picker.clear()  # no place is a valid answer
    assert "place_id" not in form.error_texts() and form.save_button.isEnabled()
    qtbot.keyClicks(picker, "tokyo")  # typing a whole name, in any case, is choosing it
    (tokyo,) = ids_named(window.state.store, "place", "Tokyo")
    assert form.editors["place_id"].value() == tokyo and "place_id" not in form.error_texts()
    assert popup.currentIndex().data() == "Tokyo"
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert picker.text() == "Tokyo" and not popup.isVisible()


def test_a_long_list_is_capped_and_says_to_keep_typing(qtbot, window: MainWindow, monkeypatch) -> None:
    monkeypatch.setattr(PickModel, "LIMIT", 3)
    form = window.editing.new_record("organisation")
    picker = form.editors["sector_id"].focus_widget()
    picker.setFocus()
    qtbot.keyClick(picker, Qt.Key.Key_Down)  # Down opens the list without typing
    popup = picker.completer.popup()
    rows = [popup.model().index(r, 0).data() for r in range(popup.model().rowCount())]
    assert rows == [
        "Advanced manufacturing",
        "Aerospace and space",
        "Artificial intelligence",
        "More than 3 match: keep typing to narrow the list.",
    ]
    for _ in range(5):  # the arrows stop at the last record, not on the message
        qtbot.keyClick(popup, Qt.Key.Key_Down)
    assert popup.currentIndex().data() == "Artificial intelligence"
    qtbot.keyClick(popup, Qt.Key.Key_Escape)
    assert not popup.isVisible() and form.editors["sector_id"].value() is None


def test_forms_open_without_listing_any_table(qtbot, store: Store, monkeypatch) -> None:
    """Opening a form asks only for the names of the records it links to (a million-record
    database has 100,000 organisations: no picker may load them all)."""
    asked: list[tuple[str, list[int]]] = []
    real_labels = Store.labels

    def labels(self: Store, record_type: str, ids: list[int]) -> dict[int, str]:
        asked.append((record_type, list(ids)))
        return real_labels(self, record_type, ids)

    def refuse(*_args, **_kwargs):
        raise AssertionError("a form listed records while opening")

    monkeypatch.setattr(Store, "list_records", refuse)
    monkeypatch.setattr(Store, "pick", refuse)
    monkeypatch.setattr(Store, "labels", labels)
    state = AppState(store)
    ops = Operations(state)
    deal_id = sumitomo_deal(store)
    for record_type in FORMS:
        form = form_for(state, ops, record_type)
        qtbot.addWidget(form)
        form.close()
    assert asked == []  # a new record links to nothing yet
    form = form_for(state, ops, "deal", deal_id)
    qtbot.addWidget(form)
    cited = sorted({source_id for source_id, _s, _n in store.citations_of("deal", deal_id)})
    assert sorted(asked) == [
        ("organisation", [5]),
        ("sector", [store.get("deal", deal_id).sector_id]),
        ("source", cited),
    ]  # the names of what it links to, by id
    assert form.editors["sector_id"].focus_widget().text() == "Real estate"
    assert [i.text(0) for i in form.editors["organisations"].items()] == ["Sumitomo Realty"]


def test_a_read_only_form_shows_links_but_offers_no_list(qtbot, demo_path: Path) -> None:
    store = open_store(demo_path, read_only=True)
    try:
        state = AppState(store)
        form = form_for(state, Operations(state), "deal", sumitomo_deal(store))
        qtbot.addWidget(form)
        form.show()
        picker = form.editors["sector_id"].focus_widget()
        assert picker.text() == "Real estate" and picker.isReadOnly()
        picker.setFocus()
        qtbot.keyClick(picker, Qt.Key.Key_Down)
        assert not picker.completer.popup().isVisible()
        assert not form.editors["organisations"].picker.isEnabled()
    finally:
        store.close()


def test_a_sector_cannot_be_its_own_parent(qtbot, window: MainWindow, store: Store) -> None:
    (energy,) = ids_named(store, "sector", "Energy")
    window.state.select(RecordRef("sector", energy))
    form = window.editing.edit_current()
    picker = form.editors["parent_id"].focus_widget()
    picker.setFocus()
    qtbot.keyClicks(picker, "energy")
    assert [name for _i, name in picker.model.rows] == ["Clean energy"]


def test_down_on_a_chosen_link_lists_the_others_with_it_highlighted(qtbot, window: MainWindow, store: Store) -> None:
    window.state.select(RecordRef("deal", sumitomo_deal(store)))
    form = window.editing.edit_current()
    picker = form.editors["sector_id"].focus_widget()
    picker.setFocus()
    qtbot.keyClick(picker, Qt.Key.Key_Down)
    popup = picker.completer.popup()
    assert popup.isVisible() and popup.currentIndex().data() == "Real estate"
    assert len(picker.model.rows) == len(store.list_records("sector"))  # a small table: every sector
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert (
        picker.text() == "Renewables"
        and form.editors["sector_id"].value() == ids_named(store, "sector", "Renewables")[0]
    )


# --- the store's side --------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_pick_orders_names_starting_with_the_text_first(store: Store) -> None:
    names = lambda record_type, text, limit=50: [n for _i, n in store.pick(record_type, text, limit)]  # noqa: E731
    assert names("sector", "energy") == ["Energy", "Clean energy"]  # starts with it, then a word does
    assert names("sector", "ENER") == ["Energy", "Clean energy"]
    assert names("organisation", "steel") == ["JFE Steel", "Nippon Steel"]
    assert names("organisation", "tomo") == ["Sumitomo Realty"]  # inside a word
    assert names("sector", "", 3) == ["Advanced manufacturing", "Aerospace and space", "Artificial intelligence"]
    assert names("sector", "a", 2) == ["Advanced manufacturing", "Aerospace and space"]
    assert names("place", "100%_\\") == []  # LIKE wildcards are text like any other
    assert len(store.pick("sector", "", 1000)) == len(store.list_records("sector"))
    (energy,) = ids_named(store, "sector", "Energy")
    assert [n for _i, n in store.pick("sector", "energy", exclude=energy)] == ["Clean energy"]
    assert store.labels("sector", [energy, 999_999]) == {energy: "Energy"}


def test_the_full_text_index_and_a_scan_give_the_same_matches(store: Store, monkeypatch) -> None:
    """Big tables are searched through the FTS5 trigram index, small ones scanned; and when the
    typed text is too common in the index, big ones fall back to the scan. Same answers."""
    queries = [
        ("event", "india"),
        ("event", "2nd"),
        ("organisation", "corporation"),
        ("person", "abe"),
        ("sector", "and"),
        ("pledge", "yen"),
        ("event", "annual summit"),
    ]
    scanned = {q: store.pick(*q) for q in queries}
    assert all(scanned[q] for q in queries if q != ("pledge", "yen"))
    monkeypatch.setattr(picking, "SCAN_ROWS", 0)  # every table counts as big: the index answers
    assert {q: store.pick(*q) for q in queries} == scanned
    monkeypatch.setattr(picking, "FTS_HITS", 2)  # the index gives up at once: the scan answers
    assert {q: store.pick(*q) for q in queries} == scanned
    created = store.create("organisation", {"name": "Mitsubishi Heavy Industries"}).changes[-1]
    assert store.pick("organisation", "heavy ind") == [(created.record_id, "Mitsubishi Heavy Industries")]
    monkeypatch.setattr(picking, "FTS_HITS", 500)
    assert store.pick("organisation", "heavy ind") == [(created.record_id, "Mitsubishi Heavy Industries")]
