"""Analysts edit through forms: typed widgets, inline validation, undo/redo, history, conflicts."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from sqlmodel import select

from explorer import models as m
from explorer.forms.editors import RecordPicker
from explorer.forms.record_form import ConflictDialog, RecordForm
from explorer.state import AppState, RecordRef
from explorer.store import Store, open_store
from explorer.views.main_window import MainWindow


def type_into(qtbot, form: RecordForm, field: str, text: str) -> None:
    editor = form.editors[field]
    widget = editor.focus_widget()
    if hasattr(widget, "setEditText"):  # editable combo box: type the name, completion picks it
        widget.setEditText("")
        qtbot.keyClicks(widget.lineEdit(), text)
    else:
        widget.clear()
        qtbot.keyClicks(widget, text)


def pick(form: RecordForm, field: str, text: str) -> None:
    combo = form.editors[field].focus_widget()
    index = combo.findText(text)
    assert index >= 0, f"{text!r} not offered in {field}"
    combo.setCurrentIndex(index)


def choose(qtbot, form: RecordForm, field: str, typed: str, label: str) -> None:
    """Type into a record picker, then pick ``label`` from its list with the arrow keys and Enter."""
    picker = form.editors[field].focus_widget()
    assert isinstance(picker, RecordPicker)
    picker.clear()
    qtbot.keyClicks(picker, typed)
    popup = picker.completer.popup()
    assert popup.isVisible()
    labels = [label for _id, label in picker.model.rows]
    assert label in labels, f"{label!r} not offered in {field} for {typed!r}: {labels}"
    for _ in range(labels.index(label)):
        qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert not popup.isVisible() and picker.text() == label


def save(qtbot, form: RecordForm) -> None:
    assert form.save_button is not None and form.save_button.isEnabled(), form.error_texts()
    qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    assert form.result() == QDialog.DialogCode.Accepted, form.general_messages() or form.error_texts()


def tree_node(win: MainWindow, ref: RecordRef):
    index = win.tree_view.index_of(ref)
    assert index.isValid(), ref
    return win.tree_view.model.node(index)


def test_new_deal_for_new_organisation_in_new_sector_shows_everywhere(qtbot, window: MainWindow, store: Store) -> None:
    editing = window.editing
    form = editing.new_record("sector")
    type_into(qtbot, form, "name", "Shipbuilding")
    choose(qtbot, form, "parent_id", "manu", "Manufacturing")
    save(qtbot, form)
    sector_ref = window.state.current
    assert sector_ref.record_type == "sector"

    form = editing.new_record("organisation")
    type_into(qtbot, form, "name", "Kawasaki Heavy Industries")
    pick(form, "kind", "company")
    type_into(qtbot, form, "country_id", "Japan")
    type_into(qtbot, form, "sector_id", "Shipbuilding")
    save(qtbot, form)
    org_ref = window.state.current

    form = editing.new_record("deal")
    type_into(qtbot, form, "title", "Kawasaki shipyard in Gujarat")
    type_into(qtbot, form, "sector_id", "Shipbuilding")
    type_into(qtbot, form, "place_id", "Gujarat")
    type_into(qtbot, form, "amount", "1,250,000,000")
    pick(form, "currency", "USD")
    type_into(qtbot, form, "usd_rate", "1")
    assert form.editors["amount_usd"].value() == pytest.approx(1.25e9)  # follows the amount
    type_into(qtbot, form, "start_date", "2025-09-15")
    form.editors["organisations"].check(org_ref.record_id, "lead")
    save(qtbot, form)
    deal_ref = window.state.current
    assert deal_ref.record_type == "deal"

    sector = tree_node(window, sector_ref)
    assert (sector.deal_count, sector.total_usd) == (1, pytest.approx(1.25e9))
    org = tree_node(window, org_ref)
    assert (org.deal_count, org.total_usd) == (1, pytest.approx(1.25e9))
    parent = tree_node(window, RecordRef("sector", sector.sector_id))
    assert parent is not None
    assert deal_ref in window.timeline.shown_refs()
    assert window.tree_view.selected_refs() == [deal_ref]
    assert "US$1.25 bn" in window.detail.plain_text()
    manufacturing = next(n for n in store.sector_tree() if n.name == "Manufacturing")
    assert manufacturing.total_usd >= 1.25e9


def test_edit_amounts_update_tree_and_detail_and_undo_redo_restore_both(
    qtbot, window: MainWindow, store: Store
) -> None:
    with store.read() as s:
        pledge = s.exec(select(m.Pledge).where(m.Pledge.amount == 10e12)).one()
        deal = s.exec(select(m.Deal).where(m.Deal.amount_usd == 4.76e9)).one()
        org_id = s.exec(select(m.Organisation.id).where(m.Organisation.name.contains("Sumitomo Realty"))).one()
    org_ref = RecordRef("organisation", org_id)
    total_before = tree_node(window, org_ref).total_usd

    window.state.select(RecordRef("pledge", pledge.id))
    form = window.editing.edit_current()
    type_into(qtbot, form, "amount", "11000000000000")  # the USD figure follows: ¥11 tn × 0.0068
    save(qtbot, form)
    assert "¥11 tn" in window.detail.plain_text() and "US$74.8 bn" in window.detail.plain_text()

    window.state.select(RecordRef("deal", deal.id))
    form = window.editing.edit_current()
    type_into(qtbot, form, "amount", "5000000000")
    save(qtbot, form)
    assert tree_node(window, org_ref).total_usd == pytest.approx(total_before - 4.76e9 + 5e9)
    assert "US$5 bn" in window.detail.plain_text()

    window.editing.undo_action.trigger()  # the deal
    window.editing.undo_action.trigger()  # the pledge
    assert tree_node(window, org_ref).total_usd == pytest.approx(total_before)
    assert store.get("pledge", pledge.id).amount == 10e12
    window.state.select(RecordRef("pledge", pledge.id))
    assert "¥10 tn" in window.detail.plain_text()

    window.editing.redo_action.trigger()
    window.editing.redo_action.trigger()
    assert store.get("pledge", pledge.id).amount == 11e12
    assert "¥11 tn" in window.detail.plain_text()
    assert tree_node(window, org_ref).total_usd == pytest.approx(total_before - 4.76e9 + 5e9)
    history = store.detail("pledge", pledge.id).history
    changes = [(h.field, h.old_value, h.new_value) for h in history if h.action == "update"]
    assert changes == [
        ("amount", "10000000000000.0", "11000000000000.0"),
        ("amount_usd", "68000000000.0", "74800000000.0"),
        ("amount", "11000000000000.0", "10000000000000.0"),
        ("amount_usd", "74800000000.0", "68000000000.0"),
        ("amount", "10000000000000.0", "11000000000000.0"),
        ("amount_usd", "68000000000.0", "74800000000.0"),
    ]


def test_inline_validation_blocks_saving_and_names_the_fields(qtbot, window: MainWindow, store: Store) -> None:
    form = window.editing.new_record("pledge")
    assert not form.save_button.isEnabled()
    assert "Title is required" in form.error_texts()["title"]
    type_into(qtbot, form, "title", "Test pledge")
    type_into(qtbot, form, "amount", "-5")
    pick(form, "currency", "JPY")
    type_into(qtbot, form, "start_date", "2025-01-10")
    type_into(qtbot, form, "end_date", "2024-01-01")
    errors = form.error_texts()
    assert "cannot be negative" in errors["amount"]
    assert "cannot be before" in errors["end_date"]
    assert not form.save_button.isEnabled()
    type_into(qtbot, form, "amount", "100")
    type_into(qtbot, form, "end_date", "2026-01-01")
    assert "required for an amount in JPY" in form.error_texts()["usd_rate"]
    type_into(qtbot, form, "usd_rate", "abc")
    assert "must be a number" in form.error_texts()["usd_rate"]
    type_into(qtbot, form, "start_date", "2025-13-45")
    assert "must be a date" in form.error_texts()["start_date"]
    count = len(store.list_records("pledge"))
    form.save()  # refused: nothing written
    assert len(store.list_records("pledge")) == count


def test_unique_name_is_checked_before_writing(qtbot, window: MainWindow, store: Store) -> None:
    form = window.editing.new_record("organisation")
    type_into(qtbot, form, "name", "Toyota")
    existing = [n for _, n in store.list_records("organisation") if n == "Toyota"]
    if not existing:
        pytest.skip("demo names Toyota differently")
    save_button = form.save_button
    qtbot.mouseClick(save_button, Qt.MouseButton.LeftButton)
    assert form.result() != QDialog.DialogCode.Accepted
    assert "already used" in form.error_texts()["name"]


def test_cascaded_delete_undo_restores_exactly(qtbot, window: MainWindow, store: Store) -> None:
    with store.read() as s:
        org = s.exec(select(m.Organisation).where(m.Organisation.name.contains("Sojitz"))).one()
        deal = s.exec(select(m.Deal).where(m.Deal.title.contains("iogas"))).first()
    before = store.snapshot("deal", deal.id)[1]
    ref = RecordRef("organisation", org.id)
    assert window.editing.delete(ref, confirm=False)
    assert not window.tree_view.index_of(ref).isValid()
    window.editing.undo_action.trigger()
    assert store.snapshot("deal", deal.id)[1]["organisations"] == before["organisations"]
    assert store.get("organisation", org.id).uuid == org.uuid
    assert window.tree_view.index_of(ref).isValid()
    window.editing.redo_action.trigger()
    assert not window.tree_view.index_of(ref).isValid()


def test_read_only_database_opens_forms_for_viewing_only(qtbot, demo_path: Path) -> None:
    store = open_store(demo_path, read_only=True)
    win = MainWindow(AppState(store))
    qtbot.addWidget(win)
    win.show()
    assert win.notice_bar.isVisible() and "Read-only" in win.banner.text()
    assert not win.editing.new_action.isEnabled()
    pledge_id = store.list_records("pledge")[0][0]
    win.state.select(RecordRef("pledge", pledge_id))
    assert not win.editing.delete_action.isEnabled()
    form = win.editing.edit_current()
    assert form.save_button is None
    assert "Read-only" in form.findChild(type(win.banner), "bannerLabel").text()
    assert form.editors["title"].focus_widget().isReadOnly()
    store.close()


def test_conflicting_save_shows_both_versions_and_loses_nothing(
    qtbot, window: MainWindow, demo_path: Path, store: Store, monkeypatch
) -> None:
    with store.read() as s:
        deal = s.exec(select(m.Deal).where(m.Deal.amount_usd == 4.76e9)).one()
    window.state.select(RecordRef("deal", deal.id))
    form = window.editing.edit_current()
    other = open_store(demo_path)  # another analyst saves first
    other.update("deal", deal.id, {"status": "operational", "notes": "Theirs."}, expected_version=deal.version)
    other.close()
    type_into(qtbot, form, "notes", "Mine.")
    pick(form, "status", "completed")
    seen = {}

    def choose(dialog: ConflictDialog) -> int:
        seen["fields"] = sorted(dialog.choices)
        dialog.choices["status"].button(0).setChecked(True)  # keep theirs for status, mine for notes
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(ConflictDialog, "exec", choose)
    save(qtbot, form)
    assert seen["fields"] == ["notes", "status"]
    values = store.snapshot("deal", deal.id)[1]
    assert values["status"] == "operational" and values["notes"] == "Mine."
    history = [(h.field, h.new_value) for h in store.detail("deal", deal.id).history if h.action == "update"]
    assert ("notes", "Theirs.") in history and ("notes", "Mine.") in history


TWO_PROCESS = textwrap.dedent("""
    import sys
    from explorer.store import open_store, ConflictError
    store = open_store(sys.argv[1])
    deal_id, version = int(sys.argv[2]), int(sys.argv[3])
    try:
        store.update("deal", deal_id, {"notes": sys.argv[4]}, expected_version=version)
        print("saved")
    except ConflictError as exc:
        print("conflict", ",".join(c.field for c in exc.conflicts))
""")


def test_two_processes_editing_the_same_record_conflict(demo_path: Path, store: Store) -> None:
    with store.read() as s:
        deal = s.exec(select(m.Deal).where(m.Deal.amount_usd == 4.76e9)).one()
    args = [str(demo_path), str(deal.id), str(deal.version)]
    first = subprocess.run([sys.executable, "-c", TWO_PROCESS, *args, "first"], capture_output=True, text=True)
    second = subprocess.run([sys.executable, "-c", TWO_PROCESS, *args, "second"], capture_output=True, text=True)
    assert first.stdout.strip() == "saved", first.stderr
    assert second.stdout.strip() == "conflict notes", second.stderr
    assert store.snapshot("deal", deal.id)[1]["notes"] == "first"


def test_history_lists_every_change_in_order(store: Store) -> None:
    ref = store.create("sector", {"name": "Textiles"}).changes[0]
    for n, note in enumerate(("one", "two", "three")):
        version = store.get("sector", ref.record_id).version
        store.update("sector", ref.record_id, {"notes": note}, expected_version=version)
        assert version == n + 1
    history = store.detail("sector", ref.record_id).history
    assert [(h.action, h.field, h.old_value, h.new_value) for h in history] == [
        ("create", "name", None, "Textiles"),
        ("update", "notes", None, "one"),
        ("update", "notes", "one", "two"),
        ("update", "notes", "two", "three"),
    ]
    assert all(h.user for h in history) and history[0].at <= history[-1].at


def test_every_record_type_has_a_form_that_opens(qtbot, window: MainWindow) -> None:
    from explorer.forms.record_form import FORMS

    for record_type in FORMS:
        form = window.editing.new_record(record_type)
        assert form.windowTitle().startswith("New")
        assert form.editors, record_type
        form.reject()


def test_timeline_and_tree_context_menus_open_the_form(qtbot, window: MainWindow, store: Store) -> None:
    with store.read() as s:
        deal = s.exec(select(m.Deal).where(m.Deal.amount_usd == 4.76e9)).one()
    ref = RecordRef("deal", deal.id)
    window.timeline.set_view_range(deal.start_day - 300, deal.start_day + 300)
    pos = window.timeline.item_view_pos(ref)
    qtbot.mouseClick(window.timeline.plot.viewport(), Qt.MouseButton.RightButton, pos=pos)
    assert window.state.current == ref
    menu = window.editing.last_menu
    edit = next(a for a in menu.actions() if a.text() == "Edit…")
    edit.trigger()
    form = window.editing.last_form
    assert form.record_type == "deal" and form.record_id == deal.id
    assert form.editors["title"].value() == deal.title
    form.reject()
    menu.close()

    index = window.tree_view.index_of(ref)
    window.tree_view.tree.scrollTo(index)
    rect = window.tree_view.tree.visualRect(index)
    window.tree_view.tree.customContextMenuRequested.emit(rect.center())
    delete = next(a for a in window.editing.last_menu.actions() if a.text() == "Delete…")
    assert delete.isEnabled()
    window.editing.last_menu.close()


def test_a_new_deal_shows_the_kind_and_status_it_is_saved_with(qtbot, window: MainWindow, store: Store) -> None:
    window.state.select([])
    form = window.editing.new_record("deal")
    shown = {name: form.editors[name].focus_widget().currentText() for name in ("kind", "status")}
    assert shown == {"kind": "project", "status": "announced"}
    type_into(qtbot, form, "title", "Defaults check deal")
    save(qtbot, form)
    with store.read() as s:
        deal = s.exec(select(m.Deal).where(m.Deal.title == "Defaults check deal")).one()
    assert (deal.kind, deal.status) == (shown["kind"], shown["status"])


def test_an_error_message_does_not_move_the_fields(qtbot, window: MainWindow) -> None:
    window.state.select([])
    form = window.editing.new_record("deal")
    qtbot.waitExposed(form)
    watched = [form.editors[n].focus_widget() for n in ("title", "amount", "currency", "usd_rate", "start_date")]

    def places() -> list[int]:
        qtbot.wait(20)
        return [w.mapTo(form, w.rect().topLeft()).y() for w in watched]

    type_into(qtbot, form, "title", "Moves nothing")
    before = places()
    type_into(qtbot, form, "amount", "-5")
    type_into(qtbot, form, "start_date", "not a date")
    errors = form.error_texts()
    assert "amount" in errors and "start_date" in errors
    assert places() == before
    assert "Amount" in form.general_error.text()  # listed under the fields, the field's name a link
    form.general_error.linkActivated.emit("amount")
    assert form.editors["amount"].focus_widget().hasFocus()
    form.close()


def test_usd_follows_the_amount_and_rate_unless_stated_by_the_source(qtbot, window: MainWindow, store: Store) -> None:
    with store.read() as s:
        pledge = s.exec(select(m.Pledge).where(m.Pledge.amount == 10e12)).one()
    window.state.select(RecordRef("pledge", pledge.id))
    form = window.editing.edit_current()
    assert not form.usd_stated.isChecked()  # ¥10 tn × 0.0068 = US$68 bn: computed
    usd_field = form.editors["amount_usd"].focus_widget()
    assert usd_field.isReadOnly()
    type_into(qtbot, form, "amount", "20000000000000")
    assert form.editors["amount_usd"].value() == pytest.approx(136e9)
    type_into(qtbot, form, "usd_rate", "0.007")
    assert form.editors["amount_usd"].value() == pytest.approx(140e9)
    assert "Computed" in form.usd_note.text()
    # A figure the source states is kept, and says what the rate would give
    form.usd_stated.setChecked(True)
    assert not usd_field.isReadOnly()
    type_into(qtbot, form, "amount_usd", "135000000000")
    type_into(qtbot, form, "amount", "21000000000000")
    assert form.editors["amount_usd"].value() == pytest.approx(135e9)
    assert "US$147 bn" in form.usd_note.text()
    save(qtbot, form)
    text = window.detail.plain_text()
    assert "US$135 bn" in text and "as stated in the source" in text


def test_history_reads_like_the_detail_pane_and_names_the_analyst(qtbot, window: MainWindow, store: Store) -> None:
    from explorer.settings import analyst_name

    with store.read() as s:
        pledge = s.exec(select(m.Pledge).where(m.Pledge.amount == 10e12)).one()
        place = s.exec(select(m.Place).where(m.Place.name == "Gujarat")).one()
        deal = s.exec(select(m.Deal).where(m.Deal.amount_usd == 4.76e9)).one()
    assert analyst_name() is None
    window.state.select(RecordRef("pledge", pledge.id))
    form = window.editing.edit_current()
    assert form.author_edit is not None  # the first edit asks for the name, in the form
    form.author_edit.setText("Asha Rao")
    type_into(qtbot, form, "amount", "12000000000000")
    save(qtbot, form)
    assert analyst_name() == "Asha Rao"
    text = window.detail.plain_text()
    assert "Amount: ¥10 tn → ¥12 tn" in text
    assert "10000000000000.0" not in text and "Asha Rao" in text
    window.state.select(RecordRef("deal", deal.id))
    form = window.editing.edit_current()
    assert form.author_edit is None  # asked once
    type_into(qtbot, form, "place_id", "Gujarat")
    save(qtbot, form)
    assert store.get("deal", deal.id).place_id == place.id
    assert "Place: — → Gujarat" in window.detail.plain_text()


def cite(qtbot, form: RecordForm, typed: str, title: str) -> None:
    """Type part of a source's title in the Sources picker and pick it with the keyboard."""
    editor = form.citations_editor
    rows = editor.tree.topLevelItemCount()
    picker = editor.picker
    qtbot.keyClicks(picker, typed)
    popup = picker.completer.popup()
    labels = [label for _id, label in picker.model.rows]
    assert popup.isVisible() and title in labels, labels
    for _ in range(labels.index(title)):
        qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert editor.tree.topLevelItemCount() == rows + 1 and editor.tree.topLevelItem(rows).text(0) == title


def test_sources_are_cited_in_the_form_in_one_undoable_write(qtbot, window: MainWindow, store: Store) -> None:
    window.state.select([])
    form = window.editing.new_record("deal")
    type_into(qtbot, form, "title", "Cited deal")
    cite(qtbot, form, "New Era", "India-Japan Partnership: A New Era of Strategic and Economic Synergy")
    row = form.citations_editor.tree.topLevelItem(0)
    row.setText(1, "A $68 Billion Commitment")
    row.setText(2, "The pledge the deal answers.")
    save(qtbot, form)
    deal = window.state.current
    assert store.citations_of("deal", deal.record_id) == [
        (1, "A $68 Billion Commitment", "The pledge the deal answers.")
    ]
    text = window.detail.plain_text()
    assert "A $68 Billion Commitment" in text and "No source cited yet" not in text
    undo = window.editing.ops.undo_stack
    count = undo.count()

    form = window.editing.edit_current()
    form.citations_editor.tree.topLevelItem(0).setText(1, "Expanding Trade, Industry, and Rural Empowerment")
    cite(qtbot, form, "joint statements", "Public record: joint statements of the India–Japan Annual Summits")
    save(qtbot, form)
    assert undo.count() == count + 1  # one step for the record and its sources
    after = store.citations_of("deal", deal.record_id)
    assert [(s, sec) for s, sec, _n in after] == [(1, "Expanding Trade, Industry, and Rural Empowerment"), (2, None)]
    undo.undo()
    assert store.citations_of("deal", deal.record_id) == [
        (1, "A $68 Billion Commitment", "The pledge the deal answers.")
    ]
    undo.redo()
    assert [(s, sec) for s, sec, _n in store.citations_of("deal", deal.record_id)] == [
        (1, "Expanding Trade, Industry, and Rural Empowerment"),
        (2, None),
    ]
    window.state.select(RecordRef("source", 2))
    assert "Cited deal" in window.detail.plain_text()  # a source's page lists what cites it


def test_saving_a_title_leaves_a_usd_figure_the_source_rounded_as_it_was(
    qtbot, window: MainWindow, store: Store
) -> None:
    """A USD figure within the tolerance of amount × rate counts as computed, but a save that
    does not touch the amount, currency or rate must not "correct" it (nothing silently lost)."""
    with store.read() as s:
        pledge = s.exec(select(m.Pledge).where(m.Pledge.amount == 10e12)).one()
    expected = 10e12 * pledge.usd_rate
    store.update("pledge", pledge.id, {"amount_usd": expected + 1234.56}, expected_version=pledge.version)
    window.state.select(RecordRef("pledge", pledge.id))
    form = window.editing.edit_current()
    type_into(qtbot, form, "title", "10 trillion yen investment pledge (2025), renamed")
    save(qtbot, form)
    assert store.get("pledge", pledge.id).amount_usd == pytest.approx(expected + 1234.56, abs=1e-6)
    # Changing the amount makes it follow the rate again.
    form = window.editing.edit_current()
    type_into(qtbot, form, "amount", "11000000000000")
    save(qtbot, form)
    assert store.get("pledge", pledge.id).amount_usd == pytest.approx(11e12 * pledge.usd_rate)
