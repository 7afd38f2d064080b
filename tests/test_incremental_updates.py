"""A saved record reaches every view without a reload: the timeline's loaded records and the
sector tree's rows are patched in place (issue 20 part 5), and show what a fresh read shows."""

from __future__ import annotations

from sqlmodel import select

from explorer import models as m
from explorer.itemmodels.sector_tree import SectorTreeModel
from explorer.state import AppState, RecordRef
from explorer.store import Store
from explorer.views.timeline import TimelineView
from explorer.views.tree import SectorTreeView


def a_deal_with_partner(store: Store) -> tuple[m.Deal, int]:
    with store.read() as s:
        deal, org_id = s.exec(
            select(m.Deal, m.DealOrganisation.organisation_id)
            .join(m.DealOrganisation, m.DealOrganisation.deal_id == m.Deal.id)
            .where(m.Deal.start_date.is_not(None), m.Deal.amount_usd.is_not(None))  # type: ignore[union-attr]
            .order_by(m.Deal.amount_usd.desc())  # type: ignore[union-attr]
        ).first()
    return deal, int(org_id)


def rows(model: SectorTreeModel, ref: RecordRef) -> list[tuple[str, str, str]]:
    """(name, country, total) as the tree shows the record's rows."""
    return [tuple(str(i.siblingAtColumn(c).data() or "") for c in (0, 1, 3)) for i in model.indexes_for(ref)]


def test_a_saved_title_shows_in_the_tree_and_the_timeline_without_reading_them_again(
    qtbot, store: Store, monkeypatch
) -> None:
    state = AppState(store)
    tree, timeline = SectorTreeView(state), TimelineView(state)
    qtbot.addWidget(tree)
    qtbot.addWidget(timeline)
    deal, _org = a_deal_with_partner(store)
    ref = RecordRef("deal", deal.id)
    state.select(ref)  # the tree opens the way to it
    resets: list[int] = []
    tree.model.modelReset.connect(lambda: resets.append(1))
    reloads: list[int] = []
    monkeypatch.setattr(timeline, "reload", lambda: reloads.append(1))
    arrangement = timeline.model.arrangement

    state.notify_changed(store.update("deal", deal.id, {"title": "Renamed in place"}, expected_version=deal.version))

    assert [r[0] for r in rows(tree.model, ref)] == ["Renamed in place"] * len(rows(tree.model, ref))
    assert rows(tree.model, ref)
    assert resets == [] and tree.selected_refs() == [ref]  # not rebuilt: the selection stays shown
    g = timeline.model.index_of(ref)
    assert g is not None and str(timeline.model.data.label[g]) == "Renamed in place"
    assert "Renamed in place" in timeline._describe(g)
    assert reloads == [] and timeline.model.arrangement is arrangement  # no lane sorted again
    state.stop_background()


def test_a_changed_amount_adds_up_in_the_tree_as_a_fresh_read_does(qtbot, store: Store) -> None:
    state = AppState(store)
    tree = SectorTreeView(state)
    qtbot.addWidget(tree)
    deal, org_id = a_deal_with_partner(store)
    deal_ref, org_ref = RecordRef("deal", deal.id), RecordRef("organisation", org_id)
    sector_ref = RecordRef("sector", deal.sector_id)
    state.select(deal_ref)
    resets: list[int] = []
    tree.model.modelReset.connect(lambda: resets.append(1))
    before = rows(tree.model, sector_ref)

    # a small change (no row changes place among its siblings), as a form's save may make
    new_usd = float(deal.amount_usd or 0) + 1.0
    changes = store.update("deal", deal.id, {"amount_usd": new_usd}, expected_version=deal.version)
    state.notify_changed(changes)

    fresh = SectorTreeModel(store)
    fresh.sort(3, tree.model._sort[1] if tree.model._sort else 0)  # the view's sort
    for ref in (deal_ref, org_ref, sector_ref):
        assert rows(tree.model, ref) == rows(fresh, ref)
    assert resets == [] and tree.selected_refs() == [deal_ref]
    assert rows(tree.model, sector_ref) != before or "bn" in before[0][2]  # shown rounded at billions
    state.stop_background()


def test_a_renamed_organisation_is_renamed_in_its_rows_and_the_tree_stays_open(qtbot, store: Store) -> None:
    state = AppState(store)
    tree = SectorTreeView(state)
    qtbot.addWidget(tree)
    _deal, org_id = a_deal_with_partner(store)
    org_ref = RecordRef("organisation", org_id)
    state.select(org_ref)
    resets: list[int] = []
    tree.model.modelReset.connect(lambda: resets.append(1))
    org = store.get("organisation", org_id)
    new_name = org.name + " (renamed)"  # keeps its place among organisations of the same total
    state.notify_changed(store.update("organisation", org_id, {"name": new_name}, expected_version=org.version))
    assert {r[0] for r in rows(tree.model, org_ref)} == {new_name}
    assert resets == [] and tree.selected_refs() == [org_ref]
    fresh = SectorTreeModel(store)
    fresh.sort(3, tree.model._sort[1] if tree.model._sort else 0)
    assert rows(fresh, org_ref) == rows(tree.model, org_ref)
    state.stop_background()


def test_a_rename_that_moves_a_row_among_equal_totals_reads_the_tree_again(qtbot, store: Store) -> None:
    state = AppState(store)
    tree = SectorTreeView(state)
    qtbot.addWidget(tree)
    _deal, org_id = a_deal_with_partner(store)  # shares its deal (and total) with another partner
    org_ref = RecordRef("organisation", org_id)
    state.select(org_ref)
    org = store.get("organisation", org_id)
    state.notify_changed(store.update("organisation", org_id, {"name": "Aa First Co"}, expected_version=org.version))
    state.wait_idle()
    fresh = SectorTreeModel(store)
    fresh.sort(3, tree.model._sort[1] if tree.model._sort else 0)
    assert {r[0] for r in rows(tree.model, org_ref)} == {"Aa First Co"}
    assert [i.row() for i in tree.model.indexes_for(org_ref)] == [i.row() for i in fresh.indexes_for(org_ref)]
    state.stop_background()


def test_a_renamed_organisation_shows_its_new_name_and_its_deals_without_reading_its_links_again(
    qtbot, store: Store, monkeypatch
) -> None:
    from explorer.store import queries
    from explorer.views.detail import DetailPane

    state = AppState(store)
    pane, timeline = DetailPane(state), TimelineView(state)
    qtbot.addWidget(pane)
    qtbot.addWidget(timeline)
    deal, org_id = a_deal_with_partner(store)
    org = store.get("organisation", org_id)
    ref = RecordRef("organisation", org_id)
    state.select(ref)
    deals_before = [t for t in pane.link_targets() if t.record_type == "deal"]
    highlighted = set(timeline._highlight_refs)
    assert RecordRef("deal", deal.id) in deals_before and RecordRef("deal", deal.id) in highlighted
    read_links: list[str] = []
    links_of = queries.links_of
    monkeypatch.setattr(queries, "links_of", lambda s, t, r: read_links.append(t) or links_of(s, t, r))
    layout = timeline.model.layout

    state.notify_changed(
        store.update("organisation", org_id, {"name": "Renamed Partner Ltd"}, expected_version=org.version)
    )
    assert timeline.model.layout is layout  # nothing the timeline draws changed: not laid out again

    text = pane.plain_text()
    assert text.splitlines()[1] == "Renamed Partner Ltd"
    assert f"Name: {org.name} → Renamed Partner Ltd" in text  # its history read again
    assert [t for t in pane.link_targets() if t.record_type == "deal"] == deals_before
    assert timeline._highlight_refs == highlighted
    assert read_links == []  # its deals are as they were: not read again

    # the deal's own detail lists the organisation by its new name: that one is read afresh
    state.select(RecordRef("deal", deal.id))
    assert "Renamed Partner Ltd" in pane.plain_text()
    state.notify_changed(
        store.update("organisation", org_id, {"name": "Renamed Twice Ltd"}, expected_version=org.version + 1)
    )
    assert "Renamed Twice Ltd" in pane.plain_text() and "Renamed Partner Ltd" not in pane.plain_text()
    assert read_links == ["deal", "deal"]
    state.stop_background()


def test_a_pledge_moved_to_another_summit_leaves_the_first_summits_detail(qtbot, store: Store) -> None:
    from explorer.views.detail import DetailPane

    state = AppState(store)
    pane = DetailPane(state)
    qtbot.addWidget(pane)
    with store.read() as s:
        pledge = s.exec(select(m.Pledge).where(m.Pledge.event_id.is_not(None))).first()  # type: ignore[union-attr]
        other = s.exec(select(m.Event).where(m.Event.id != pledge.event_id)).first()
    summit = RecordRef("event", pledge.event_id)
    state.select(summit)
    assert RecordRef("pledge", pledge.id) in pane.link_targets()

    state.notify_changed(store.update("pledge", pledge.id, {"event_id": other.id}, expected_version=pledge.version))

    assert RecordRef("pledge", pledge.id) not in pane.link_targets()  # a link undone: read again
    state.select(RecordRef("event", other.id))
    assert RecordRef("pledge", pledge.id) in pane.link_targets()


def views_under_its_sector_filter(qtbot, store: Store) -> tuple[AppState, SectorTreeView, TimelineView, m.Deal, int]:
    """A tree and a timeline with the filter showing only the sector (and sub-sectors) of a deal
    with a partner: (state, tree, timeline, the deal, its partner's id)."""
    from explorer.store import Filters

    state = AppState(store)
    tree, timeline = SectorTreeView(state), TimelineView(state)
    qtbot.addWidget(tree)
    qtbot.addWidget(timeline)
    deal, org_id = a_deal_with_partner(store)
    state.set_filters(Filters(sector_ids=store.sector_ids_with_descendants([deal.sector_id])))
    state.wait_idle()
    return state, tree, timeline, deal, org_id


def test_under_a_filter_a_new_title_and_amount_show_in_place_as_a_fresh_filtered_read(
    qtbot, store: Store, monkeypatch
) -> None:
    """Under a sector filter a save that cannot change what passes (a title, an amount) is
    written into the filtered rows and records shown: the tree is not read again and the
    timeline does not work out its passing records again (160 ms of SQL at 1e6), and both
    show what a fresh filtered read shows."""
    state, tree, timeline, deal, org_id = views_under_its_sector_filter(qtbot, store)
    filters = state.filters
    ref = RecordRef("deal", deal.id)
    state.select(ref)
    assert tree.model.filters == filters and rows(tree.model, ref)
    shown_before = len(timeline.model.data)
    assert 0 < shown_before < len(timeline.model.full)  # the filtered records
    resets: list[int] = []
    tree.model.modelReset.connect(lambda: resets.append(1))
    asked: list[object] = []
    timeline_ids = store.timeline_ids
    monkeypatch.setattr(store, "timeline_ids", lambda f: asked.append(f) or timeline_ids(f))

    new_usd = float(deal.amount_usd or 0) + 1.0
    changes = store.update(
        "deal", deal.id, {"title": "Renamed under a filter", "amount_usd": new_usd}, expected_version=deal.version
    )
    state.notify_changed(changes)
    state.wait_idle()

    assert {r[0] for r in rows(tree.model, ref)} == {"Renamed under a filter"}
    assert resets == [] and tree.selected_refs() == [ref]
    g = timeline.model.index_of(ref)
    assert g is not None and str(timeline.model.data.label[g]) == "Renamed under a filter"
    assert float(timeline.model.data.amount_usd[g]) == new_usd
    assert len(timeline.model.data) == shown_before and asked == []
    fresh = SectorTreeModel(store)
    fresh.sort(3, tree.model._sort[1] if tree.model._sort else 0)
    fresh.set_filters(filters)
    for shown in (ref, RecordRef("organisation", org_id), RecordRef("sector", deal.sector_id)):
        assert rows(tree.model, shown) == rows(fresh, shown)
    state.stop_background()


def test_under_a_filter_a_deal_moved_out_of_its_sectors_leaves_the_tree_and_the_timeline(qtbot, store: Store) -> None:
    """A save that changes what passes (the deal's sector, outside the filter) is not written in
    place: the views work out again what passes, and the deal is gone from both."""
    state, tree, timeline, deal, _org = views_under_its_sector_filter(qtbot, store)
    elsewhere = next(sid for sid, _name in store.list_records("sector") if sid not in state.filters.sector_ids)
    ref = RecordRef("deal", deal.id)
    state.select(ref)
    assert rows(tree.model, ref) and timeline.model.index_of(ref) is not None

    state.notify_changed(store.update("deal", deal.id, {"sector_id": elsewhere}, expected_version=deal.version))
    state.wait_idle()

    assert rows(tree.model, ref) == []
    assert timeline.model.index_of(ref) is None
    state.stop_background()
