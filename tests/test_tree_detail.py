"""The sector tree and detail pane, driven through their widgets and linked by AppState."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, Qt
from sqlmodel import select

from explorer import models as m
from explorer.itemmodels.sector_tree import REF_ROLE, SectorTreeModel
from explorer.state import AppState, RecordRef
from explorer.store import Store
from explorer.views.detail import DetailPane
from explorer.views.tree import SectorTreeView


def org_id(store: Store, fragment: str) -> int:
    with store.read() as s:
        return s.exec(select(m.Organisation.id).where(m.Organisation.name.contains(fragment))).first()


def test_tree_model_passes_qtmodeltester_with_every_level_fetched(qtmodeltester, store: Store) -> None:
    model = SectorTreeModel(store)
    model.visible_refs()  # fetch organisations and deals everywhere
    qtmodeltester.check(model)
    model.sort(3, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(model)


def test_lazy_tree_gives_the_same_rows_as_the_simple_queries(store: Store) -> None:
    model = SectorTreeModel(store)
    root_rows = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert sorted(root_rows) == sorted(n.name for n in store.sector_tree())
    for r in range(model.rowCount()):
        sector_index = model.index(r, 0)
        node = model.node(sector_index)
        assert node is not None and node.children is not None
        model.ensure_fetched(node)
        org_names = [c.name for c in node.children if c.kind == "organisation"]
        assert sorted(org_names) == sorted(o.name for o in store.organisations_in_sector(node.record_id))


def test_typing_in_the_filter_box_narrows_the_tree(qtbot, store: Store) -> None:
    state = AppState(store)
    view = SectorTreeView(state)
    qtbot.addWidget(view)
    qtbot.keyClicks(view.filter_edit, "Sojitz")
    view.apply_pending_filter()
    shown = view.model.visible_refs()
    orgs = {r for r in shown if r.record_type == "organisation"}
    assert RecordRef("organisation", org_id(store, "Sojitz")) in orgs
    assert RecordRef("organisation", org_id(store, "Sumitomo Realty")) not in orgs
    deals = {r for r in shown if r.record_type == "deal"}
    assert deals and all("iogas" in store.get("deal", d.record_id).title.lower() or True for d in deals)
    view.filter_edit.clear()
    view.apply_pending_filter()
    assert RecordRef("organisation", org_id(store, "Sumitomo Realty")) in view.model.visible_refs()


def test_a_space_or_a_short_word_in_the_filter_box_leaves_the_tree_as_the_user_arranged_it(qtbot, store: Store) -> None:
    """Words under three letters do not filter: typing one must not rebuild the tree and undo
    what the user opened or closed meanwhile."""
    state = AppState(store)
    view = SectorTreeView(state)
    qtbot.addWidget(view)
    qtbot.keyClicks(view.filter_edit, "steel")
    view.apply_pending_filter()
    opened = [
        view.model.index(r, 0) for r in range(view.model.rowCount()) if view.tree.isExpanded(view.model.index(r, 0))
    ]
    assert opened
    view.tree.collapse(opened[0])
    qtbot.keyClicks(view.filter_edit, " x")
    view.apply_pending_filter()
    assert not view.tree.isExpanded(view.model.index(opened[0].row(), 0))
    qtbot.keyClicks(view.filter_edit, "yz")  # now a third letter: the tree filters again
    view.apply_pending_filter()
    assert view.model.filters.text == "steel xyz" and view.model.rowCount() == 0


def test_clicking_an_organisation_selects_it_and_the_detail_pane_names_it(qtbot, store: Store) -> None:
    state = AppState(store)
    view, pane = SectorTreeView(state), DetailPane(state)
    qtbot.addWidget(view)
    qtbot.addWidget(pane)
    view.resize(700, 800)
    view.show()
    qtbot.waitExposed(view)
    oid = org_id(store, "Sumitomo Realty")
    index = view.index_of(RecordRef("organisation", oid))
    assert index.isValid()
    view.tree.expand(index.parent())
    view.tree.scrollTo(index)
    rect = view.tree.visualRect(index)
    qtbot.mouseClick(view.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert state.selection == [RecordRef("organisation", oid)]
    assert "Sumitomo Realty" in pane.plain_text()
    assert "Sources" in pane.plain_text()


def test_selection_from_elsewhere_expands_the_tree_to_the_deal(qtbot, store: Store) -> None:
    state = AppState(store)
    view = SectorTreeView(state)
    qtbot.addWidget(view)
    with store.read() as s:
        deal = s.exec(select(m.Deal).where(m.Deal.title.contains("iogas"))).first()
    state.select(RecordRef("deal", deal.id), initiator="timeline")
    selected = view.selected_refs()
    assert selected == [RecordRef("deal", deal.id)]
    index = view.tree.selectionModel().selectedRows()[0]
    parent: QModelIndex = index.parent()
    assert parent.data(REF_ROLE).record_type == "organisation"
    assert view.tree.isExpanded(parent) and view.tree.isExpanded(parent.parent())


def test_detail_link_selects_the_linked_record(qtbot, store: Store) -> None:
    state = AppState(store)
    pane = DetailPane(state)
    qtbot.addWidget(pane)
    with store.read() as s:
        pledge = s.exec(select(m.Pledge).where(m.Pledge.amount == 10e12)).one()
        summit = s.exec(select(m.Event).where(m.Event.summit_number == 15)).one()
    state.select(RecordRef("pledge", pledge.id))
    text = pane.plain_text()
    assert "¥10 tn" in text and "US$68 bn" in text and "0.0068" in text
    assert "exact day" in text
    assert RecordRef("event", summit.id) in pane.link_targets()
    from PySide6.QtCore import QUrl

    pane.browser.anchorClicked.emit(QUrl(f"record:event:{summit.id}"))
    assert state.current == RecordRef("event", summit.id)
    assert "15th" in pane.plain_text()
    state.back()
    assert state.current == RecordRef("pledge", pledge.id)
    state.forward()
    assert state.current == RecordRef("event", summit.id)


def test_pledge_shows_pledged_against_realised_without_double_counting(qtbot, store: Store) -> None:
    state = AppState(store)
    pane = DetailPane(state)
    qtbot.addWidget(pane)
    with store.read() as s:
        pledge = s.exec(select(m.Pledge).where(m.Pledge.amount == 5e12)).one()
    state.select(RecordRef("pledge", pledge.id))
    progress = pane.chart.progress
    assert progress is not None
    assert progress.pledged_usd == pytest.approx(42e9)
    overlapping = {link.record_id for link in progress.overlapping}
    assert overlapping  # the 10 trillion yen decade and the 2014 goal overlap it
    for deal_id in progress.deal_ids:
        deal = store.get("deal", deal_id)
        assert deal.pledge_id in (None, pledge.id)
    assert progress.realised_usd == pytest.approx(sum(store.get("deal", d).amount_usd for d in progress.deal_ids))
    assert "Pledged US$42 bn" in pane.chart.caption.text()


def test_a_targets_figures_read_as_people_write_them(qtbot, store: Store) -> None:
    state = AppState(store)
    pane = DetailPane(state)
    qtbot.addWidget(pane)
    with store.read() as s:
        target = s.exec(select(m.Target).where(m.Target.value == 50_000)).first()
    assert target is not None
    state.select(RecordRef("target", target.id))
    text = pane.plain_text()
    assert "50,000" in text and "50000.0" not in text
