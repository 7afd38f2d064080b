"""The records table: a type's records in a sortable, filterable table, linked to the selection
both ways, edited in place (validated, undoable), several rows at once, copied for a spreadsheet."""

from __future__ import annotations

import sqlalchemy as sa
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from explorer import models as m
from explorer.itemmodels.record_table import RecordTableModel
from explorer.state import RecordRef
from explorer.store import Store
from explorer.views.main_window import MainWindow
from explorer.views.records_table import RecordsTableView


def ready(qtbot, view: RecordsTableView) -> None:
    qtbot.waitUntil(lambda: view.job is None and not view._refilter.isActive(), timeout=20_000)


def open_table(qtbot, window: MainWindow, record_type: str = "deal") -> RecordsTableView:
    window.focus_records_action.trigger()
    view = window.records
    assert (window.records_dock.isVisible() and view.table.hasFocus()) or view.table.isVisible()
    view.type_box.setCurrentIndex(view.type_box.findData(record_type))
    ready(qtbot, view)
    return view


def titles_in_db(store: Store, cls: type[m.Record], column: str = "title") -> list[str]:
    with store.engine.connect() as conn:
        return [r[0] for r in conn.execute(sa.text(f"SELECT {column} FROM {cls.__tablename__} ORDER BY id"))]


def column_of(view: RecordsTableView, name: str) -> int:
    return next(i for i, c in enumerate(view.model.columns) if c.name == name)


def shown(view: RecordsTableView, name: str) -> list[str]:
    c = column_of(view, name)
    return [view.model.data(view.model.index(r, c)) for r in range(view.model.rowCount())]


def test_the_model_is_a_well_behaved_qt_model(qtbot, qtmodeltester, window: MainWindow) -> None:
    view = open_table(qtbot, window, "deal")
    assert view.model.rowCount() > 10
    qtmodeltester.check(view.model, force_py=True)
    fresh = RecordTableModel(window.state, "person")  # and one that has not been shown
    fresh.set_rows("person", window.state.store.table_ids("person"))
    qtmodeltester.check(fresh, force_py=True)


def test_rows_sort_filter_and_count(qtbot, window: MainWindow, store: Store) -> None:
    view = open_table(qtbot, window, "deal")
    titles = titles_in_db(store, m.Deal)
    assert sorted(shown(view, "title")) == sorted(titles)
    assert view.count_label.text() == f"{len(titles)} deal records"
    # A click on the Title header sorts A→Z, another Z→A (as the database orders them).
    header = view.table.horizontalHeader()
    header.sectionClicked.emit(column_of(view, "title"))
    ready(qtbot, view)
    assert shown(view, "title") == sorted(titles, key=lambda t: t)
    header.sectionClicked.emit(column_of(view, "title"))
    ready(qtbot, view)
    assert shown(view, "title") == sorted(titles, reverse=True)
    # Typing in the filter keeps the rows whose title or notes hold the words.
    qtbot.keyClicks(view.filter_edit, "Suzuki")
    ready(qtbot, view)
    for r in range(view.model.rowCount()):
        deal = store.get("deal", view.model.ref(r).record_id)
        assert "suzuki" in f"{deal.title} {deal.notes} {deal.kind} {deal.status}".lower()
    assert 1 <= view.model.rowCount() < len(titles)
    assert view.count_label.text().startswith(f"{view.model.rowCount()} deal")


def test_selection_is_linked_both_ways(qtbot, window: MainWindow, store: Store) -> None:
    view = open_table(qtbot, window, "deal")
    # Clicking a row selects the record everywhere: the detail pane shows it.
    row = 3
    rect = view.table.visualRect(view.model.index(row, 0))
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    ref = view.model.ref(row)
    assert window.state.current == ref
    qtbot.waitUntil(lambda: window.detail.detail is not None and window.detail.detail.record.id == ref.record_id)
    # A deal selected elsewhere (the timeline, the tree) is selected in the table.
    other = view.model.ref(7)
    window.state.select(other)
    assert view.selected_rows() == [7]
    # A person selected elsewhere: the table follows to the people and selects them.
    person = RecordRef("person", store.list_records("person")[0][0])
    window.state.select(person)
    ready(qtbot, view)
    assert view.record_type == "person" and [view.model.ref(r) for r in view.selected_rows()] == [person]


def test_a_cell_is_edited_in_place_validated_and_undone(qtbot, window: MainWindow, store: Store) -> None:
    view = open_table(qtbot, window, "deal")
    row, col = 2, column_of(view, "title")
    ref = view.model.ref(row)
    before = store.get("deal", ref.record_id).title
    index = view.model.index(row, col)
    view.table.setCurrentIndex(index)
    view.table.edit(index)
    editor = view.table.viewport().findChild(QLineEdit)
    assert editor is not None and editor.text() == before
    editor.selectAll()
    qtbot.keyClicks(editor, "Renamed in the table")
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # the delegate commits on the next turn of the loop
    qtbot.waitUntil(lambda: store.get("deal", ref.record_id).title == "Renamed in the table")
    assert not view.problem_label.isVisibleTo(view), view.problem_label.text()
    qtbot.waitUntil(lambda: view.model.data(view.model.index(row, col)) == "Renamed in the table")
    window.editing.ops.undo_stack.undo()
    assert store.get("deal", ref.record_id).title == before

    # An amount that is not a number is refused with the rule's message, and nothing changes.
    amount = column_of(view, "amount")
    old_amount = store.get("deal", ref.record_id).amount
    assert view.model.setData(view.model.index(row, amount), "lots")
    assert store.get("deal", ref.record_id).amount == old_amount
    assert view.problem_label.isVisibleTo(view) and "Amount" in view.problem_label.text()


def test_several_rows_get_one_field_in_one_undo_step(qtbot, window: MainWindow, store: Store) -> None:
    view = open_table(qtbot, window, "deal")
    model = view.table.selectionModel()
    for row in (0, 1, 4):
        model.select(
            view.model.index(row, 0), QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        )
    refs = [view.model.ref(r) for r in view.selected_rows()]
    before = {r.record_id: store.get("deal", r.record_id).status for r in refs}
    rows = [(view.model.ref(r), int(view.model.cells(r)[-1])) for r in view.selected_rows()]
    assert view.write_many(rows, "status", "completed")
    assert {store.get("deal", r.record_id).status for r in refs} == {"completed"}
    window.editing.ops.undo_stack.undo()
    assert {r.record_id: store.get("deal", r.record_id).status for r in refs} == before
    # A value the rules refuse is refused for all of them: none is changed.
    assert not view.write_many(rows, "status", "half-done")
    assert {r.record_id: store.get("deal", r.record_id).status for r in refs} == before


def test_copied_rows_paste_into_a_spreadsheet(qtbot, window: MainWindow, store: Store) -> None:
    view = open_table(qtbot, window, "deal")
    view.table.selectRow(0)
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    text = QApplication.clipboard().text()
    header, first = text.splitlines()[:2]
    assert header.split("\t")[: len(view.model.columns)] == [c.label for c in view.model.columns]
    assert first.split("\t")[column_of(view, "title")] == view.model.data(view.model.index(0, column_of(view, "title")))
    csv_text = view.copy_rows(",")
    assert csv_text.splitlines()[0].startswith("Title,")


def test_a_closed_table_reads_nothing_until_it_is_opened(qtbot, window: MainWindow, store: Store) -> None:
    """At a million records the table's ids take a second to read: not at start-up for a closed dock."""
    view = window.records
    assert not window.records_dock.isVisible() and view.model.rowCount() == 0 and view.job is None
    deal = RecordRef("deal", store.list_records("deal")[0][0])
    window.state.select(deal)  # selecting while it is closed costs nothing…
    assert view.model.rowCount() == 0
    view = open_table(qtbot, window, "deal")  # …and is shown once it opens
    assert [view.model.ref(r) for r in view.selected_rows()] == [deal]
