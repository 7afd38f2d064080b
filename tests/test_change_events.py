"""One change event per write (what records, which fields, old → new, who) and one revision that
every cache keys on; views skip what does not concern them and what they made themselves."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication
from sqlmodel import select

from explorer import models as m
from explorer.forms.operations import Operations
from explorer.forms.story_editor import StoryEditor
from explorer.state import EXTERNAL, AppState, RecordRef
from explorer.store import Change, ChangeEvent, ChangeSet, Filters, Store, ValueChange, open_store
from explorer.views.detail import DetailPane
from explorer.views.main_window import MainWindow
from explorer.views.tree import SectorTreeView


def the_deal(store: Store) -> m.Deal:
    with store.read() as s:
        return s.exec(select(m.Deal).where(m.Deal.amount_usd == 4.76e9)).one()


def a_person(store: Store) -> m.Person:
    with store.read() as s:
        return s.exec(select(m.Person).order_by(m.Person.id)).first()


def organisation_of(store: Store, deal: m.Deal) -> m.Organisation:
    with store.read() as s:
        return s.exec(
            select(m.Organisation)
            .join(m.DealOrganisation, m.DealOrganisation.organisation_id == m.Organisation.id)
            .where(m.DealOrganisation.deal_id == deal.id)
        ).first()


class Recorder:
    """Every records_changed event, with its initiator."""

    def __init__(self, state: AppState) -> None:
        self.events: list[tuple[ChangeEvent, object]] = []
        state.records_changed.connect(lambda changes, initiator: self.events.append((changes, initiator)))


# --- the event ---------------------------------------------------------------------------


def test_a_write_says_which_fields_changed_from_what_to_what_and_who_wrote(store: Store) -> None:
    deal = the_deal(store)
    old_title = deal.title
    event = store.update(
        "deal", deal.id, {"title": "Towers, renamed", "notes": deal.notes}, expected_version=deal.version
    )
    assert isinstance(event, ChangeEvent) and ChangeSet is ChangeEvent  # the old name still works
    (change,) = event.changes
    assert (change.action, change.record_type, change.record_id) == ("update", "deal", deal.id)
    assert change.fields == {"title": ValueChange(old_title, "Towers, renamed")}  # notes did not change
    assert event.author == store.user and event.types() == {"deal"} and event.touches("deal", deal.id)

    created = store.create("person", {"name": "A. New Person"})
    (new,) = created.changes
    assert new.action == "create" and new.fields["name"] == ValueChange(None, "A. New Person")
    version = store.get("person", new.record_id).version
    gone = store.delete("person", new.record_id, expected_version=version).changes[-1]
    assert gone.action == "delete" and gone.fields["name"] == ValueChange("A. New Person", None)


def test_the_revision_moves_on_by_exactly_one_per_write(store: Store) -> None:
    deal = the_deal(store)
    start = store.revision
    first = store.update("deal", deal.id, {"title": "Once"}, expected_version=deal.version)
    assert store.revision == start + 1 == first.revision
    # A write of several records (the deal and a new citation of a source) is still one event.
    source_id = store.list_records("source")[0][0]
    version = store.get("deal", deal.id).version
    second = store.update("deal", deal.id, {"citations": [(source_id, "p. 3", None)]}, expected_version=version)
    assert len(second.changes) > 1 and store.revision == start + 2 == second.revision
    store.sector_tree()  # looks at the change log: the write's own rows are not someone else's
    assert store.revision == start + 2
    # Nothing changed, no event: the revision stays.
    version = store.get("deal", deal.id).version
    assert not store.update("deal", deal.id, {"title": "Once"}, expected_version=version)
    assert store.revision == start + 2
    # An event counted once however often it is handed on; one put together by hand is counted.
    store.publish(second)
    assert store.revision == start + 2
    made = ChangeSet([Change("update", "deal", deal.id)])
    assert store.publish(made) is made and made.revision == store.revision == start + 3


def test_caches_are_worked_out_again_after_a_write_unless_the_event_leaves_them_standing(
    qtbot, state: AppState, store: Store
) -> None:
    deal = the_deal(store)
    ref = RecordRef("deal", deal.id)
    assert state.detail(ref) is state.detail(ref)  # read once per revision
    before = state.detail(ref)
    filters = Filters(text="Sumitomo")
    found: list[object] = []
    state.request_scope(filters, found.append, owner="test", label="Filtering")
    assert state.scope(filters) is found[0]

    state.notify_changed(store.update("deal", deal.id, {"title": "Fresh title"}, expected_version=deal.version))
    assert state.revision == store.revision
    after = state.detail(ref)
    assert after is not before and after.record.title == "Fresh title"
    assert state.scope(filters) is None  # worked out at the revision before
    state.request_scope(filters, found.append, owner="test", label="Filtering")
    assert found[-1] is not found[0] and found[-1].revision == store.revision

    # The sector totals survive a rename of an organisation, not a change of a deal's amount.
    store.sector_tree()
    org = organisation_of(store, deal)
    store.update("organisation", org.id, {"name": org.name + " Holdings"}, expected_version=org.version)
    assert store.cached_sector_tree() is not None
    store.update("deal", deal.id, {"amount_usd": 5e9}, expected_version=store.get("deal", deal.id).version)
    assert store.cached_sector_tree() is None


def test_another_connections_write_arrives_as_the_same_event_with_its_fields(
    qtbot, state: AppState, store: Store, demo_path: Path
) -> None:
    heard = Recorder(state)
    deal = the_deal(store)
    other = open_store(demo_path)  # another window, process or user on the same file
    try:
        other.update("deal", deal.id, {"title": "Written elsewhere"}, expected_version=deal.version)
    finally:
        other.close()
    start = store.revision
    assert state.check_for_changes()
    ((event, initiator),) = heard.events
    assert initiator == EXTERNAL and event.external and isinstance(event, ChangeEvent)
    (change,) = event.changes
    assert (change.action, change.record_type, change.record_id) == ("update", "deal", deal.id)
    assert change.fields["title"] == ValueChange(deal.title, "Written elsewhere")  # as the log has them
    assert store.revision == start + 1 == event.revision
    assert state.detail(RecordRef("deal", deal.id)).record.title == "Written elsewhere"


# --- views skip what does not concern them -------------------------------------------------


def test_renaming_a_person_leaves_the_sector_tree_as_it_was_and_updates_the_detail(qtbot, store: Store) -> None:
    state = AppState(store)
    tree, pane = SectorTreeView(state), DetailPane(state)
    qtbot.addWidget(tree)
    qtbot.addWidget(pane)
    top = tree.model.index(0, 0)
    tree.tree.expand(top)
    resets: list[int] = []
    tree.model.modelReset.connect(lambda: resets.append(1))
    person = a_person(store)
    state.select(RecordRef("person", person.id))
    state.notify_changed(store.update("person", person.id, {"name": "Renamed Person"}, expected_version=person.version))
    assert "Renamed Person" in pane.plain_text()
    assert resets == [] and tree.tree.isExpanded(tree.model.index(0, 0))  # not rebuilt, still open

    # An organisation's notes are not in the tree either; its name is.
    org = organisation_of(store, the_deal(store))
    state.notify_changed(store.update("organisation", org.id, {"notes": "Quiet."}, expected_version=org.version))
    assert resets == []
    version = store.get("organisation", org.id).version
    state.notify_changed(store.update("organisation", org.id, {"name": "Loud Name Co"}, expected_version=version))
    assert resets and tree.model.data(tree.index_of(RecordRef("organisation", org.id))) == "Loud Name Co"
    state.stop_background()


def test_the_detail_pane_reads_again_only_for_its_record_and_the_records_it_shows(
    qtbot, store: Store, monkeypatch
) -> None:
    state = AppState(store)
    pane = DetailPane(state)
    qtbot.addWidget(pane)
    deal = the_deal(store)
    state.select(RecordRef("deal", deal.id))
    reads: list[RecordRef] = []
    real = state.detail
    monkeypatch.setattr(state, "detail", lambda ref: reads.append(ref) or real(ref))

    person = a_person(store)  # not linked to the deal
    state.notify_changed(store.update("person", person.id, {"notes": "Unrelated."}, expected_version=person.version))
    assert reads == []

    org = organisation_of(store, deal)  # a partner: its name is shown
    state.notify_changed(
        store.update("organisation", org.id, {"name": "Partner Renamed"}, expected_version=org.version)
    )
    assert reads and "Partner Renamed" in pane.plain_text()

    # A new record linking to the shown one is shown too.
    reads.clear()
    state.select(RecordRef("organisation", org.id))
    reads.clear()
    created = store.create("deal", {"title": "A deal of theirs", "kind": "project", "organisations": [org.id]})
    state.notify_changed(created)
    assert reads and "A deal of theirs" in pane.plain_text()
    state.stop_background()


def test_an_external_change_reaches_every_view(qtbot, window: MainWindow, store: Store, demo_path: Path) -> None:
    deal = the_deal(store)
    ref = RecordRef("deal", deal.id)
    window.state.select(ref)
    other = open_store(demo_path)
    try:
        other.update("deal", deal.id, {"title": "Towers seen everywhere"}, expected_version=deal.version)
    finally:
        other.close()
    assert window.state.check_for_changes()
    assert "Towers seen everywhere" in window.detail.plain_text()
    assert window.tree_view.model.data(window.tree_view.index_of(ref)) == "Towers seen everywhere"
    pos = window.timeline.item_view_pos(ref)
    assert pos is not None and window.timeline.tooltip_at(pos).split("\n")[0] == "Towers seen everywhere"
    assert "someone else" in window.statusBar().currentMessage()


# --- and what they made themselves -----------------------------------------------------------


def test_the_story_editor_shows_its_own_writes_itself_and_others_from_the_event(qtbot, store: Store) -> None:
    state = AppState(store)
    ops = Operations(state)
    editor = StoryEditor(state, ops, lambda: (19000.0, 21000.0))
    qtbot.addWidget(editor)
    heard = Recorder(state)
    reloads: list[int] = []
    real = editor.reload_stories
    editor.reload_stories = lambda select=None: (reloads.append(1), real(select))[1]  # type: ignore[method-assign]
    editor.new_story("Own story")
    assert heard.events[-1][1] is editor and editor.story_combo.currentText() == "Own story"
    assert reloads == [1]  # once, by itself (not again from its own event)
    ops.undo_stack.undo()  # the undo stack's, not the editor's: the event brings it up to date
    assert heard.events[-1][1] is ops and reloads == [1, 1]
    assert "Own story" not in [editor.story_combo.itemText(i) for i in range(editor.story_combo.count())]
    state.stop_background()


def test_a_form_notices_another_save_of_its_record_but_not_its_own(qtbot, window: MainWindow, store: Store) -> None:
    deal = the_deal(store)
    window.state.select(RecordRef("deal", deal.id))
    form = window.editing.edit_current()
    # Another window of this app (here: the undo stack's operations) saves the same record.
    window.editing.ops.edit("deal", deal.id, {"notes": deal.notes}, {"notes": "Elsewhere."}, deal.version, "notes")
    assert form.changed_elsewhere
    form.reject()

    form = window.editing.edit_current()
    form.editors["title"].set_value("Saved by the form")  # type: ignore[attr-defined]
    heard = Recorder(window.state)
    form.save()
    QApplication.processEvents()
    assert heard.events and heard.events[-1][1] is form
    assert not form.changed_elsewhere  # its own save is not someone else's
    assert store.get("deal", deal.id).title == "Saved by the form"
    assert "Saved by the form" in window.detail.plain_text()  # and every view shows it


def test_the_timeline_keys_on_the_revision_it_loaded(qtbot, state: AppState, view, monkeypatch) -> None:
    """A newer edit is patched in place and moves the timeline's revision on; an event the loaded
    records already hold is skipped."""
    from explorer.store.queries import TIMELINE_TYPES

    assert view.model.revision == state.revision  # loaded at the current revision
    deal = the_deal(state.store)
    reloads: list[int] = []
    monkeypatch.setattr(view, "reload", lambda: reloads.append(1))
    changes = state.store.update("deal", deal.id, {"title": "Renamed deal"}, expected_version=deal.version)
    state.notify_changed(changes)
    assert changes.revision > 0 and view.model.revision == changes.revision == state.revision
    assert reloads == []  # patched, not read again
    g = next(
        i
        for i in range(len(view.model.data))
        if TIMELINE_TYPES[int(view.model.data.record_type[i])] == "deal"
        and int(view.model.data.record_id[i]) == deal.id
    )
    assert view.model.label_text(g).startswith("Renamed deal")
    # A new deal the loaded records already hold (it would otherwise need a reload).
    old = ChangeEvent([Change("create", "deal", deal.id)], revision=changes.revision)
    state.records_changed.emit(old, None)
    assert reloads == []
    newer = ChangeEvent([Change("create", "deal", deal.id)], revision=changes.revision + 1)
    state.records_changed.emit(newer, None)
    assert reloads == [1]
