"""Scale: a 100,000-record database (from benchmarks/synth.py) opens and every view still works.

Nothing here is timed (benchmarks/run.py measures speed); these check that the engineering for
speed — numpy columns, level of detail, filtering by id masks, lazy tree, capped links — shows
the same records the plain queries give.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from explorer.itemmodels.sector_tree import BY_YEAR_ABOVE, GAP, REF_ROLE, YEAR, Node, SectorTreeModel
from explorer.models import day_number, day_to_date
from explorer.state import AppState, RecordRef, collect_out_of_the_way
from explorer.store import Filters, Store, open_store
from explorer.store.queries import LINK_LIMIT, TIMELINE_TYPES
from explorer.views.main_window import MainWindow
from explorer.views.tree import EXPAND_ROWS, REOPEN_ROWS

ROOT = Path(__file__).resolve().parent.parent
N = 100_000


def _synth():
    spec = importlib.util.spec_from_file_location("synth", ROOT / "benchmarks" / "synth.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def large_store(large_db: Path, tmp_path: Path):
    path = tmp_path / "large.sqlite"
    shutil.copyfile(large_db, path)
    opened = open_store(path)
    yield opened
    opened.close()


@pytest.fixture
def window(qtbot, large_store: Store) -> MainWindow:
    win = MainWindow(AppState(large_store))
    qtbot.addWidget(win)
    win.showNormal()  # the first start maximises to the small offscreen screen
    win.resize(1600, 950)
    win.show()
    qtbot.waitExposed(win)
    win.state.wait_idle()  # the timeline loads in the background on large data
    return win


def _refs(data) -> set[tuple[str, int]]:
    return {(TIMELINE_TYPES[int(t)], int(i)) for t, i in zip(data.record_type, data.record_id, strict=True)}


def test_generator_is_deterministic_and_proportioned(tmp_path: Path) -> None:
    synth = _synth()
    a, b = (
        synth.generate(tmp_path / "a.sqlite", 2000, seed=3, log=None),
        synth.generate(tmp_path / "b.sqlite", 2000, seed=3, log=None),
    )
    query = "SELECT title, start_date, date_precision, end_date, amount_usd, sector_id FROM deal ORDER BY id"
    rows_a, rows_b = (sqlite3.connect(p).execute(query).fetchall() for p in (a, b))
    assert rows_a == rows_b and len(rows_a) == synth.shares(2000)["deal"]
    con = sqlite3.connect(a)
    assert con.execute("SELECT count(*) FROM sector").fetchone()[0] == 40
    years = [int(r[0][:4]) for r in con.execute("SELECT start_date FROM deal")]
    assert min(years) >= 1950 and max(years) <= 2050
    precisions = {r[0] for r in con.execute("SELECT DISTINCT date_precision FROM deal")}
    assert precisions == {"day", "month", "year", "approximate"}
    assert con.execute("SELECT count(*) FROM citation").fetchone()[0] > 0
    # written through the store: the search index finds generated records
    store = open_store(a)
    try:
        title = rows_a[0][0]
        assert any(h.record_type == "deal" for h in store.search(title))
    finally:
        store.close()


def test_timeline_columns_match_a_plain_query(large_store: Store, large_db: Path) -> None:
    data = large_store.timeline()
    con = sqlite3.connect(large_db)
    query = "SELECT id, start_day, coalesce(end_day, start_day), amount_usd FROM deal ORDER BY id"
    deals = con.execute(query).fetchall()
    sel = np.flatnonzero(data.record_type == TIMELINE_TYPES.index("deal"))
    order = sel[np.argsort(data.record_id[sel])]
    assert data.record_id[order].tolist() == [r[0] for r in deals]
    assert data.start[order].tolist() == [float(r[1]) for r in deals]
    assert data.end[order].tolist() == [float(r[2]) for r in deals]
    amounts = [np.nan if r[3] is None else r[3] for r in deals]
    np.testing.assert_array_equal(data.amount_usd[order], np.array(amounts, dtype=float))
    assert len(data) == sum(
        con.execute(f"SELECT count(*) FROM {t} WHERE start_day IS NOT NULL").fetchone()[0] for t in TIMELINE_TYPES
    )


def test_level_of_detail_aggregates_everything_zoomed_out_and_draws_every_item_zoomed_in(window: MainWindow) -> None:
    tl = window.timeline
    tl.fit_all()
    lay = tl._src.layout
    a, b = tl.view_range()
    in_view = (tl.model.lo <= b) & (tl.model.hi >= a)
    drawn = sum(bins.total for _lane, bins in lay.bins) + lay.idx.size
    assert lay.bins and drawn == int(in_view.sum())
    # zoomed in to ten days, each lane shows exactly the items a plain loop finds in view
    tl.set_view_range(19000, 19010)
    lay = tl._src.layout
    a, b = tl.view_range()
    assert lay.bins == []
    plain = np.flatnonzero((tl.model.lo <= b) & (tl.model.hi >= a))
    assert sorted(lay.idx.tolist()) == plain.tolist() and plain.size > 0
    # hit-testing answers with a record drawn under the point: the item itself when alone, else
    # one it overlaps in its row (dense lanes stack same-day items)
    body_l = np.minimum(lay.x0, lay.mx - 8.0)
    body_r = np.maximum(lay.x1, lay.mx + 8.0)
    pos_of = {int(g): k for k, g in enumerate(lay.idx.tolist())}
    checked = 0
    for k, g in enumerate(lay.idx.tolist()[:300]):
        pos = tl.item_view_pos(tl._ref(g))
        if pos is None or not tl.plot.viewport().rect().contains(pos):
            continue
        hit, _agg = tl._hit(pos)
        assert hit is not None
        h = pos_of[hit]
        px = (lay.x0[k] + lay.x1[k]) / 2 if tl.model.is_span[g] else lay.mx[k]
        px = min(max(px, 0.0), lay.width_px)
        assert lay.y[h] == lay.y[k] and body_l[h] - 3 <= px <= body_r[h] + 3
        if hit == g:
            checked += 1
    assert checked >= 5


def test_tree_click_updates_timeline_and_detail(qtbot, window: MainWindow, large_store: Store) -> None:
    model = window.tree_view.model
    sector = model.index(0, 0, model.index(0, 0))  # a sub-sector of the first top-level sector
    model.fetchMore(sector)
    org_index = model.index(0, 0, sector)
    model.fetchMore(org_index)
    window.tree_view.tree.expand(sector)
    window.tree_view.tree.expand(org_index)
    deal_index = model.index(0, 0, org_index)
    deal = model.node(deal_index)
    assert deal is not None and deal.kind == "deal"
    window.tree_view.tree.scrollTo(deal_index)
    rect = window.tree_view.tree.visualRect(deal_index)
    qtbot.mouseClick(window.tree_view.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    ref = RecordRef("deal", deal.record_id)
    assert window.state.selection == [ref]
    assert window.timeline.highlighted_refs() == [ref]
    assert deal.name in window.detail.plain_text()
    a, b = window.timeline.view_range()
    assert a <= large_store.get("deal", deal.record_id).start_day <= b


def test_filters_and_search_agree_with_the_store(window: MainWindow, large_store: Store) -> None:
    tl = window.timeline
    sector_id = window.sector_combo.itemData(3)
    window.sector_combo.setCurrentIndex(3)
    window.state.wait_idle()  # on large data the filter's queries run in the background
    expected = _refs(large_store.timeline(filters=window.state.filters))
    assert expected and _refs(tl.model.data) == expected
    # … shown from the subset and lanes the background job worked out with the filter's query
    prepared = window.state.scope(window.state.filters).extras.get("timeline")
    assert prepared is not None and tl.model.arrangement is prepared[-1]
    window.sector_combo.setCurrentIndex(0)
    window.state.wait_idle()
    assert len(tl.model.data) == len(large_store.timeline())
    assert sector_id is not None

    name = large_store.list_records("organisation")[5][1]
    window.search_edit.setText(name)
    window.apply_search()
    window.state.wait_idle()
    expected = _refs(large_store.timeline(filters=Filters(text=name)))
    assert expected and _refs(tl.model.data) == expected
    orgs = {r for r in window.tree_view.model.visible_refs() if r.record_type == "organisation"}
    org_id = next(i for i, n in large_store.list_records("organisation") if n == name)
    assert RecordRef("organisation", org_id) in orgs
    hits = large_store.search(name)
    assert hits and hits[0].title.startswith(name.split()[0])


def test_lanes_chosen_while_a_search_runs_are_the_lanes_its_result_shows(
    window: MainWindow, large_store: Store
) -> None:
    """The background job arranges its subset in the lanes and colours of when it started; a
    choice made meanwhile wins once the result arrives."""
    tl = window.timeline
    name = large_store.list_records("organisation")[7][1]
    window.search_edit.setText(name)
    window.apply_search()
    assert window.state.busy  # the search runs in the background …
    tl.set_lane_mode("sector")  # … while the user picks other lanes and colours
    tl.set_colour_mode("country")
    window.state.wait_idle()
    expected = _refs(large_store.timeline(filters=Filters(text=name)))
    assert expected and _refs(tl.model.data) == expected
    sector_names = {n for _i, n in large_store.list_records("sector")} | {"No sector"}
    assert tl.lane_labels() and set(tl.lane_labels()) <= sector_names
    country_names = {n for _i, n in large_store.list_records("country")} | {"Both / none"}
    assert tl.legend_entries() and set(tl.legend_entries()) <= country_names
    in_lanes = [tl._ref(g) for k in range(len(tl.lane_labels())) for g in tl.model.arrangement.lanes.order[k].tolist()]
    assert len(in_lanes) == len(expected)  # every record in one lane
    assert {(r.record_type, r.record_id) for r in in_lanes} == expected


def test_detail_of_a_big_sector_lists_a_capped_number_of_links(large_store: Store) -> None:
    counts = {n.id: n.deal_count for root in large_store.sector_tree() for n in root.children}
    biggest = max(counts, key=counts.__getitem__)
    assert counts[biggest] > LINK_LIMIT
    deals = [ln for ln in large_store.detail("sector", biggest).links if ln.record_type == "deal"]
    assert len(deals) == LINK_LIMIT


def test_lazy_tree_passes_qtmodeltester_under_a_filter(qtmodeltester, large_store: Store) -> None:
    name = large_store.list_records("organisation")[7][1]
    filters = Filters(text=name)
    model = SectorTreeModel(large_store)
    model.set_filters(filters)
    refs = model.visible_refs()  # fetches every level the filter leaves
    orgs = {r.record_id for r in refs if r.record_type == "organisation"}
    expected: set[int] = set()
    for root in large_store.sector_tree(filters):
        for node in [root, *root.children]:
            expected |= {o.id for o in large_store.organisations_in_sector(node.id, filters)}
    assert orgs == expected and orgs
    qtmodeltester.check(model)


def test_form_edit_on_a_large_database_shows_everywhere(qtbot, window: MainWindow, large_store: Store) -> None:
    org_id, name = large_store.list_records("organisation")[1234]
    ref = RecordRef("organisation", org_id)
    window.state.select(ref)
    form = window.editing.edit_current()
    assert form is not None
    editor = form.editors["name"].focus_widget()
    editor.clear()
    qtbot.keyClicks(editor, name + " (renamed)")
    qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    assert form.result() == QDialog.DialogCode.Accepted, form.error_texts()
    assert large_store.get("organisation", org_id).name == name + " (renamed)"
    assert name + " (renamed)" in window.detail.plain_text()
    window.state.wait_idle()  # on large data the tree adds its totals up again in the background
    index = window.tree_view.index_of(ref)
    assert index.isValid() and window.tree_view.model.node(index).name == name + " (renamed)"
    assert large_store.search(name + " (renamed)")[0].record_id == org_id


def _rows(model: SectorTreeModel) -> set[tuple]:
    """Every row the tree shows, with its counts and totals, all levels loaded."""
    out: set[tuple] = set()
    stack = [model.index(r, 0) for r in range(model.rowCount())]
    while stack:
        index = stack.pop()
        node = model.node(index)
        model.ensure_fetched(node)
        parent = model.node(index.parent())
        total = None if node.total_usd is None else round(node.total_usd, 2)
        out.add((node.kind, node.record_id, parent.ref if parent else None, node.deal_count, total, node.name))
        stack += [model.index(r, 0, index) for r in range(model.rowCount(index))]
    return out


@pytest.mark.parametrize("kind", ["text", "sector and dates"])
def test_tree_from_a_filter_scope_shows_the_rows_the_per_node_queries_give(
    qtmodeltester, large_store: Store, kind: str
) -> None:
    if kind == "text":
        filters = Filters(text=large_store.list_records("organisation")[11][1])
    else:
        sector = large_store.sector_tree()[2]
        filters = Filters(
            sector_ids=large_store.sector_ids_with_descendants([sector.id]), start_day=18000, end_day=20000
        )
    per_node = SectorTreeModel(large_store)
    per_node.set_filters(filters)
    scoped = SectorTreeModel(large_store)
    scoped.set_filters(filters, large_store.filter_scope(filters))
    assert scoped.scope is not None
    rows = _rows(scoped)
    assert rows == _rows(per_node) and len(rows) > 20
    qtmodeltester.check(scoped)


def _sector_listings(model: SectorTreeModel) -> list[list[tuple[str, int]]]:
    """Each sector's rows in the order the tree shows them, every row of every sector loaded."""
    out = []
    stack = [model.index(r, 0) for r in range(model.rowCount())]
    while stack:
        index = stack.pop()
        node = model.node(index)
        if node.kind != "sector":
            continue
        model.ensure_fetched(node)
        children = [model.index(r, 0, index) for r in range(model.rowCount(index))]
        out.append([(model.node(c).kind, model.node(c).record_id) for c in children])
        stack += children
    return out


def test_a_filtered_tree_lists_each_sector_largest_total_first_as_a_full_sort_would(large_store: Store) -> None:
    """Under a filter the tree keeps the scope's order instead of sorting thousands of rows
    again; the rows and the group of deals without an organisation land where a sort puts them."""
    filters = Filters(text="steel")
    scoped = SectorTreeModel(large_store)
    scoped.sort(3, Qt.SortOrder.DescendingOrder)
    scoped.set_filters(filters, large_store.filter_scope(filters))
    per_node = SectorTreeModel(large_store)
    per_node.sort(3, Qt.SortOrder.DescendingOrder)
    per_node.set_filters(filters)
    listings = _sector_listings(scoped)
    assert listings == _sector_listings(per_node)
    places = [
        [kind for kind, _id in rows].index("unattributed")
        for rows in listings
        if any(kind == "unattributed" for kind, _id in rows)
    ]
    assert any(place > 0 for place in places)  # some groups land among the organisations


def test_typing_in_the_tree_filter_runs_in_the_background_and_can_be_cancelled(
    qtbot, window: MainWindow, large_store: Store
) -> None:
    view = window.tree_view
    name = large_store.list_records("organisation")[42][1]
    view.filter_edit.setText(name)
    view.apply_pending_filter()
    assert window.state.busy  # large data: the window stays responsive while it runs
    assert window.busy_indicator.isVisible()
    qtbot.waitUntil(lambda: not window.state.busy, timeout=30_000)
    assert not window.busy_indicator.isVisible()
    shown = {r.record_id for r in view.model.visible_refs() if r.record_type == "organisation"}
    org_id = next(i for i, n in large_store.list_records("organisation") if n == name)
    assert org_id in shown

    # a broad word, then Cancel: the tree keeps what it showed, the busy bar goes away
    before = view.model.rowCount()
    view.filter_edit.setText("the")
    view.apply_pending_filter()
    assert window.state.busy
    qtbot.mouseClick(window.busy_indicator.cancel_button, Qt.MouseButton.LeftButton)
    assert not window.state.busy and not window.busy_indicator.isVisible()
    qtbot.wait(200)
    assert view.model.rowCount() == before


def test_a_large_database_paints_at_once_and_fills_the_timeline_from_the_background(qtbot, large_store: Store) -> None:
    win = MainWindow(AppState(large_store))
    qtbot.addWidget(win)
    win.showNormal()  # the first start maximises to the small offscreen screen
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    # the window is up while the timeline is still being read, and says so with progress
    assert win.state.busy and "Loading the timeline" in win.busy_indicator.label.text()
    assert win.busy_indicator.isVisible()
    model = win.tree_view.model
    names = {model.index(r, 0).data() for r in range(model.rowCount())}
    assert names == {s.name for s in large_store.sector_tree()}  # sectors are listed, totals to come
    qtbot.waitUntil(lambda: not win.state.busy, timeout=60_000)
    biggest = max(large_store.sector_tree(), key=lambda s: s.deal_count)
    row = next(r for r in range(model.rowCount()) if model.index(r, 0).data() == biggest.name)
    assert model.index(row, 2).data() == f"{biggest.deal_count:,}"
    assert not win.busy_indicator.isVisible()
    assert len(win.timeline.model.data) == len(large_store.timeline())
    assert win.count_label.text().startswith(f"{len(win.timeline.model.data):,} dated records shown")
    a, b = win.timeline.view_range()
    assert a <= float(win.timeline.model.data.start.min()) and float(win.timeline.model.data.start.max()) <= b


def biggest_sub_sector(model: SectorTreeModel) -> Node:
    """The sub-sector with the most deals: the longest listing of organisations."""
    return max((n for n in model.loaded_nodes("sector") if n.parent is not None), key=lambda n: n.deal_count or 0)


def test_a_sector_with_thousands_of_organisations_shows_them_a_chunk_at_a_time(
    qtbot, window: MainWindow, large_store: Store
) -> None:
    view, model = window.tree_view, window.tree_view.model
    big = biggest_sub_sector(model)
    expected = [r.id for r in large_store.organisations_in_sector(big.record_id)]
    assert len(expected) > model.CHUNK
    view.tree.expand(model.index_of_node(big.parent))
    index = model.index_of_node(big)
    view.tree.expand(index)
    qtbot.waitUntil(lambda: model.rowCount(index) > 0)
    assert model.rowCount(index) < len(expected) + 1  # not every row laid out at once
    # scrolling to the end shows the rest, chunk by chunk
    for _ in range(len(expected) // model.CHUNK + 2):
        view.tree.scrollToBottom()
        qtbot.wait(20)
    shown = {
        model.node(model.index(r, 0, index)).record_id
        for r in range(model.rowCount(index))
        if model.node(model.index(r, 0, index)).kind == "organisation"
    }
    assert shown == set(expected)


def test_selecting_an_organisation_not_yet_shown_in_a_big_sector_reveals_it(
    window: MainWindow, large_store: Store
) -> None:
    view, model = window.tree_view, window.tree_view.model
    big = biggest_sub_sector(model)
    rows = large_store.organisations_in_sector(big.record_id)
    last = min(rows, key=lambda r: r.total_usd)  # sorted by total, descending: the very end
    window.state.select(RecordRef("organisation", last.id))
    current = view.tree.currentIndex()
    assert current.isValid() and model.node(current).record_id == last.id
    assert view.tree.visualRect(current).intersects(view.tree.viewport().rect())


def test_selecting_an_organisation_shows_the_listings_it_is_in_up_to_it_not_whole(
    window: MainWindow, large_store: Store
) -> None:
    view, model = window.tree_view, window.tree_view.model
    big = biggest_sub_sector(model)
    rows = large_store.organisations_in_sector(big.record_id)  # largest total first, as shown
    assert len(rows) > 3 * model.CHUNK
    wanted = rows[model.CHUNK + 10]  # past the first chunk, far from the end
    ref = RecordRef("organisation", wanted.id)

    window.state.select(ref)

    current = view.tree.currentIndex()
    assert current.isValid() and model.node(current).record_id == wanted.id
    shown = model.rowCount(model.index_of_node(big))
    assert model.CHUNK + 10 < shown < len(rows)  # up to it; the rest waits for scrolling
    # and so in every sector listing it: rows made up to it in each, not every listing whole
    listing = [n for n in model.loaded_nodes("sector") if any(c.record_id == wanted.id for c in n.children)]
    assert len(listing) > 1
    assert all(n.pending for n in listing if n.children[-1].record_id == wanted.id)
    assert sum(len(n.children) for n in listing) < sum(len(n.children) + len(n.pending) for n in listing)


def test_pickers_find_a_partner_among_ten_thousand_and_the_link_shows_everywhere(
    qtbot, window: MainWindow, large_store: Store
) -> None:
    from explorer.forms.editors import PickModel

    deal_id = large_store.pick("deal", "", 1)[0][0]
    before = large_store.snapshot("deal", deal_id)[1]["organisations"]
    org_id = next(i for i in range(4321, 5000) if i not in {o for o, _r in before})
    name = large_store.labels("organisation", [org_id])[org_id]
    ref = RecordRef("deal", deal_id)
    window.state.select(ref)
    form = window.editing.edit_current()
    assert form is not None
    picker = form.editors["organisations"].picker
    picker.setFocus()
    qtbot.keyClicks(picker, name.split()[0])  # a common first word: the list is capped and says so
    popup = picker.completer.popup()
    assert popup.isVisible() and len(picker.model.rows) == PickModel.LIMIT
    assert popup.model().index(PickModel.LIMIT, 0).data().startswith("More than")
    picker.clear()
    qtbot.keyClicks(picker, name)
    labels = [label for _i, label in picker.model.rows]
    for _ in range(labels.index(name)):
        qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    assert form.result() == QDialog.DialogCode.Accepted, form.error_texts()

    assert large_store.snapshot("deal", deal_id)[1]["organisations"] == sorted([*before, (org_id, "partner")])
    assert RecordRef("organisation", org_id) in window.detail.link_targets()
    window.editing.undo_action.trigger()
    assert large_store.snapshot("deal", deal_id)[1]["organisations"] == before


def test_a_failing_background_query_is_reported_and_changes_nothing(
    qtbot, window: MainWindow, large_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from explorer.store import StoreError

    def broken(*_args, **_kwargs):
        raise StoreError("The database file could not be read")

    view = window.tree_view
    before = view.model.rowCount()
    monkeypatch.setattr(large_store, "filter_scope", broken)
    view.filter_edit.setText("Sumida")
    view.apply_pending_filter()
    qtbot.waitUntil(lambda: not window.state.busy, timeout=30_000)
    message = window.statusBar().currentMessage()
    assert "did not finish: The database file could not be read." in message and "log" in message
    assert view.model.rowCount() == before and not view.model.filters.active


def test_the_window_reads_what_filters_look_at_ahead_and_a_moved_deal_shows_under_its_new_sector(
    qtbot, window: MainWindow, large_store: Store
) -> None:
    """Once the timeline is loaded the scope index is read in the background (the first filter
    does not wait for it); a deal moved to another sector in a save is then filtered by its new
    sector in the timeline, its row read again into the index."""
    state = window.state
    qtbot.waitUntil(lambda: getattr(large_store, "_scope_index", None) is not None, timeout=20_000)
    state.wait_idle()
    first = large_store._scope_index  # type: ignore[attr-defined]
    target = window.sector_combo.itemData(3)
    under_target = large_store.sector_ids_with_descendants([target])
    other = next(
        window.sector_combo.itemData(i)
        for i in range(1, window.sector_combo.count())
        if window.sector_combo.itemData(i) not in under_target
    )
    deal_id = int(large_store.filter_scope(Filters(sector_ids=frozenset({other}))).ids["deal"][0])
    version, _values = large_store.snapshot("deal", deal_id)
    state.notify_changed(large_store.update("deal", deal_id, {"sector_id": target}, expected_version=version))
    # caught up in the background: the deal's row read again into the index, not all of it
    qtbot.waitUntil(lambda: first.revision == large_store.revision, timeout=20_000)
    state.wait_idle()
    assert large_store._scope_index is first  # type: ignore[attr-defined]
    window.sector_combo.setCurrentIndex(3)
    state.wait_idle()
    assert deal_id not in large_store.filter_scope(Filters(sector_ids=frozenset({other}))).ids["deal"].tolist()
    shown = _refs(window.timeline.model.data)
    assert ("deal", deal_id) in shown
    assert shown == _refs(large_store.timeline(filters=state.filters))


def test_a_rename_reaches_rows_not_shown_yet_also_after_the_order_changed(qtbot, large_store: Store) -> None:
    """A big sector shows its organisations a chunk at a time; a renamed organisation further
    down, not shown yet, shows its new name once scrolled to, without the tree read again —
    also after the tree was sorted the other way (its listing is looked through by the ids
    kept in the order it is in)."""
    from explorer.views.tree import SectorTreeView

    state = AppState(large_store)
    tree = SectorTreeView(state)
    qtbot.addWidget(tree)
    model = tree.model
    state.wait_idle()  # on large data the sectors' totals are added up in the background
    big = max((n for n in model.loaded_nodes("sector") if n.parent is not None), key=lambda n: n.deal_count or 0)
    model.fetchMore(model.index_of_node(big))
    assert len(big.pending) > model.CHUNK
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))

    def rename_last() -> tuple[int, str]:
        rows = big.pending or big.children  # the last not shown yet, else the last shown
        item = next(r for r in reversed(rows) if not isinstance(r, Node) or r.kind == "organisation")
        org = large_store.get("organisation", item.record_id if isinstance(item, Node) else item.id)
        name = org.name + " (renamed)"  # keeps its place among those of the same total
        state.notify_changed(large_store.update("organisation", org.id, {"name": name}, expected_version=org.version))
        return org.id, name

    def shown_name(org_id: int) -> str:
        (index,) = [i for i in model.indexes_for(RecordRef("organisation", org_id)) if model.node(i.parent()) is big]
        return str(index.data())

    first, first_name = rename_last()
    assert resets == []
    assert shown_name(first) == first_name

    assert not big.pending  # shown up to the last
    model.sort(3, Qt.SortOrder.AscendingOrder)  # smallest total first: the rows change places
    second, second_name = rename_last()
    assert resets == []
    assert shown_name(second) == second_name
    fresh = SectorTreeModel(large_store)
    fresh.sort(3, Qt.SortOrder.AscendingOrder)
    fresh.ensure_fetched(fresh.sector_node(big.record_id))
    model.ensure_fetched(big)
    assert [(r.record_id, r.name) for r in big.children] == [
        (r.record_id, r.name) for r in fresh.sector_node(big.record_id).children
    ]
    state.stop_background()


def test_a_filtered_big_sector_shows_its_organisations_chunk_by_chunk_as_the_sql_path_reads_them(
    qtbot, large_store: Store
) -> None:
    """Under a filter a big sector's organisation rows come from the filter's scope and are made
    only as the tree shows them (queries.OrganisationListing, the no-organisation group put in
    its place among them); scrolled to the end, the tree shows the rows, order, totals and
    group of the SQL path, and a row found further down shows where that path has it."""
    from explorer.views.tree import SectorTreeView

    state = AppState(large_store)
    tree = SectorTreeView(state)
    qtbot.addWidget(tree)
    model = tree.model
    state.wait_idle()

    def biggest(m: SectorTreeModel) -> Node:
        return max((n for n in m.loaded_nodes("sector") if n.parent is not None), key=lambda n: n.deal_count or 0)

    family = biggest(model).parent
    assert family is not None
    filters = Filters(sector_ids=large_store.sector_ids_with_descendants([family.record_id]))
    state.set_filters(filters)
    state.wait_idle()
    assert model.scope is not None and model.scope.filters == filters  # answered from the scope
    big = biggest(model)
    model.fetchMore(model.index_of_node(big))
    assert len(big.pending) > model.CHUNK

    fresh = SectorTreeModel(large_store)  # the SQL path: no scope
    fresh.sort(*model._sort)  # type: ignore[misc]  # the view's order
    fresh.set_filters(filters)
    fresh_big = fresh.sector_node(big.record_id)
    assert fresh_big is not None
    fresh.ensure_fetched(fresh_big)
    expected = [
        (n.kind, n.record_id, n.name, n.country, n.deal_count, round(n.total_usd or 0, 2)) for n in fresh_big.children
    ]
    assert "unattributed" in {kind for kind, *_ in expected[1:-1]}  # the group, among the rows

    deep = expected[len(expected) * 2 // 3]  # a row not shown yet: found, shown after a gap row
    assert deep[0] == "organisation"
    (index,) = [i for i in model.indexes_for(RecordRef("organisation", deep[1])) if model.node(i.parent()) is big]
    assert index.row() == model.CHUNK + 1
    gap = model.node(model.index(model.CHUNK, 0, index.parent()))
    assert gap is not None and gap.kind == GAP  # standing for exactly the rows between
    between = [(n.kind, n.record_id) if isinstance(n, Node) else ("organisation", n.id) for n in gap.pending]
    assert between == [(kind, i) for kind, i, *_ in expected[model.CHUNK : expected.index(deep)]]
    model.ensure_fetched(big)  # every row, the gap's too
    shown = [(n.kind, n.record_id, n.name, n.country, n.deal_count, round(n.total_usd or 0, 2)) for n in big.children]
    assert shown == expected
    state.stop_background()


def test_under_a_filter_a_deal_moved_out_leaves_the_timeline_without_sql_on_the_gui_thread(
    qtbot, window: MainWindow, large_store: Store, monkeypatch
) -> None:
    """On large data a save under a filter that changes what passes (a deal moved to a sector
    outside it) has what passes worked out again in the background, the timeline's records with
    it: the deal leaves the timeline, and the timeline never asks SQL for its passing records
    (160 ms held at a million records)."""
    state = window.state
    tl = window.timeline
    state.wait_idle()
    full = tl.model.full
    g = int(np.flatnonzero((full.record_type == TIMELINE_TYPES.index("deal")) & (full.sector_id >= 0))[0])
    deal = large_store.get("deal", int(full.record_id[g]))
    filters = Filters(sector_ids=large_store.sector_ids_with_descendants([int(deal.sector_id)]))
    state.set_filters(filters)
    state.wait_idle()
    ref = RecordRef("deal", deal.id)
    assert tl.model.index_of(ref) is not None
    elsewhere = next(s for s, _n in large_store.list_records("sector") if s not in filters.sector_ids)
    asked: list[object] = []
    timeline_ids = large_store.timeline_ids
    monkeypatch.setattr(large_store, "timeline_ids", lambda f: asked.append(f) or timeline_ids(f))

    state.notify_changed(large_store.update("deal", deal.id, {"sector_id": elsewhere}, expected_version=deal.version))
    state.wait_idle()
    qtbot.waitUntil(lambda: tl.model.index_of(ref) is None, timeout=10_000)
    assert asked == []
    assert _refs(tl.model.data) == _refs(large_store.timeline(filters=state.filters))


def test_what_a_large_database_loads_is_frozen_out_of_full_collections_until_another_opens(
    qtbot, large_store: Store, demo_path: Path
) -> None:
    """A full pass of the cycle collector over what a million records' loading made paused the
    window 50–90 ms at random (benchmarks/latency.py); it is frozen once loaded, and unfrozen
    when another database is opened so the old one's objects can go."""
    import gc

    gc.unfreeze()
    state = AppState(large_store)
    collector = collect_out_of_the_way(state)
    win = MainWindow(state)
    qtbot.addWidget(win)
    try:
        with qtbot.waitSignal(state.loaded_in_memory, timeout=120_000):
            win.show()
        assert gc.get_freeze_count() > 0
        state.replace_store(open_store(demo_path))
        assert gc.get_freeze_count() == 0
    finally:
        collector.stop()
        gc.unfreeze()
        state.stop_background()


def test_the_detail_of_a_big_sector_lists_its_first_deals_and_the_rest_on_a_click(qtbot, large_store: Store) -> None:
    from PySide6.QtCore import QUrl

    from explorer.views.detail import DetailPane

    state = AppState(large_store)
    pane = DetailPane(state)
    qtbot.addWidget(pane)
    counts = {n.id: n.deal_count for root in large_store.sector_tree() for n in root.children}
    state.select(RecordRef("sector", max(counts, key=counts.__getitem__)))
    html = pane.browser.toHtml()
    assert html.count("record:deal:") == pane.LINKS_LISTED
    assert f"and over {LINK_LIMIT - pane.LINKS_LISTED:,} more" in pane.browser.toPlainText()
    (relation,) = {ln.relation for ln in pane.detail.links if ln.record_type == "deal"}
    pane.browser.anchorClicked.emit(QUrl(f"more:{relation}"))  # the "… more" line clicked
    assert pane.browser.toHtml().count("record:deal:") == LINK_LIMIT
    state.stop_background()


def _busiest_organisation(store: Store) -> tuple[int, int, dict[int, list[int]]]:
    """(organisation, sector, {year its deal starts (-1: none): deal ids}) of the organisation
    with the most deals in one sector."""
    with sqlite3.connect(store.path) as conn:
        org_id, sector_id = conn.execute(
            "SELECT o.organisation_id, d.sector_id FROM dealorganisation o JOIN deal d ON d.id = o.deal_id "
            "GROUP BY 1, 2 ORDER BY count(*) DESC, 1 LIMIT 1"
        ).fetchone()
        deals = conn.execute(
            "SELECT DISTINCT d.id, d.start_day FROM dealorganisation o JOIN deal d ON d.id = o.deal_id "
            "WHERE o.organisation_id = ? AND d.sector_id = ?",
            (org_id, sector_id),
        ).fetchall()
    by_year: dict[int, list[int]] = {}
    for deal_id, day in deals:
        by_year.setdefault(-1 if day is None else day_to_date(day).year, []).append(deal_id)
    return org_id, sector_id, by_year


@pytest.mark.parametrize("filtered", [False, True], ids=["unfiltered", "under its sector's filter"])
def test_an_organisation_with_hundreds_of_deals_lists_them_by_year_and_a_selection_opens_its_year(
    window: MainWindow, large_store: Store, filtered: bool
) -> None:
    """The view lays out every row above the one it selects: a deal among an organisation's
    thousand is found under its year's row, a few dozen rows down, not a thousand."""
    org_id, sector_id, by_year = _busiest_organisation(large_store)
    count = sum(map(len, by_year.values()))
    assert count > BY_YEAR_ABOVE and len(by_year) > 3
    year, deal_id = max((y, min(ids)) for y, ids in by_year.items())  # the latest year's first deal
    if filtered:
        window.state.set_filters(Filters(sector_ids=large_store.sector_ids_with_descendants([sector_id])))
        window.state.wait_idle()
        assert window.tree_view.model.scope is not None  # the filter's path, not per-node SQL
    ref = RecordRef("deal", deal_id)
    view, model = window.tree_view, window.tree_view.model

    window.state.select(ref)

    current = view.tree.currentIndex()
    assert model.node(current).ref == ref and view.selected_refs() == [ref]
    assert view.tree.visualRect(current).intersects(view.tree.viewport().rect())
    year_index = current.parent()
    year_row = model.node(year_index)
    assert year_row.kind == YEAR and year_row.name == str(year)
    organisation_index = year_index.parent()
    organisation = model.node(organisation_index)
    assert organisation.ref == RecordRef("organisation", org_id) and organisation.sector_id == sector_id
    assert year_row.ref == organisation.ref  # choosing a year's row shows its organisation
    # one row per year, each counting (and listing, when opened) the deals it stands for
    years = [model.node(model.index(r, 0, organisation_index)) for r in range(model.rowCount(organisation_index))]
    assert sorted(y.record_id for y in years) == sorted(by_year)
    for node in years:
        assert node.deal_count == len(by_year[node.record_id])
    assert model.rowCount(year_index) == len(by_year[year])
    model.ensure_fetched(year_row)
    assert sorted(c.record_id for c in year_row.children) == sorted(by_year[year])
    assert sum(y.total_usd or 0.0 for y in years) == pytest.approx(organisation.total_usd or 0.0)
    assert "Year: " + str(year) == model.data(year_index, Qt.ItemDataRole.ToolTipRole)


def test_a_new_amount_of_a_deal_listed_under_its_year_adds_to_the_year_and_a_new_date_moves_it(
    window: MainWindow, large_store: Store
) -> None:
    org_id, _sector_id, by_year = _busiest_organisation(large_store)
    year, deal_id = max((y, min(ids)) for y, ids in by_year.items())
    ref = RecordRef("deal", deal_id)
    view, model = window.tree_view, window.tree_view.model
    window.state.select(ref)
    year_row = model.node(view.tree.currentIndex().parent())
    organisation = year_row.parent
    assert year_row.kind == YEAR and organisation is not None
    before_year, before_organisation = year_row.total_usd or 0.0, organisation.total_usd or 0.0
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    deal = large_store.get("deal", deal_id)

    changes = large_store.update(
        "deal", deal_id, {"amount_usd": float(deal.amount_usd or 0) + 1e6}, expected_version=deal.version
    )
    window.state.notify_changed(changes)
    window.state.wait_idle()

    assert resets == []  # written into the rows shown, the year's among them
    assert year_row.total_usd == pytest.approx(before_year + 1e6)
    assert organisation.total_usd == pytest.approx(before_organisation + 1e6)
    assert model.node(view.tree.currentIndex()).ref == ref

    earlier = min(y for y in by_year if y > 0)
    changes = large_store.update(
        "deal",
        deal_id,
        {"start_date": dt.date(earlier, 6, 1)},
        expected_version=large_store.get("deal", deal_id).version,
    )
    window.state.notify_changed(changes)
    window.state.wait_idle()

    current = view.tree.currentIndex()
    assert model.node(current).ref == ref and view.selected_refs() == [ref]
    assert model.node(current.parent()).name == str(earlier)
    moved_from = next(
        model.node(model.index(r, 0, current.parent().parent()))
        for r in range(model.rowCount(current.parent().parent()))
        if model.node(model.index(r, 0, current.parent().parent())).record_id == year
    )
    assert moved_from.deal_count == len(by_year[year]) - 1
    assert model.node(current.parent().parent()).ref == RecordRef("organisation", org_id)


def test_an_organisations_years_pass_qtmodeltester_and_list_every_deal_the_store_lists(
    qtmodeltester, large_store: Store
) -> None:
    org_id, sector_id, by_year = _busiest_organisation(large_store)
    model = SectorTreeModel(large_store)
    model.sort(3, Qt.SortOrder.DescendingOrder)
    found = model.indexes_for(RecordRef("organisation", org_id))
    [index] = [i for i in found if model.node(i).sector_id == sector_id]
    model.fetchMore(index)
    years = [model.node(model.index(r, 0, index)) for r in range(model.rowCount(index))]
    for year in years:
        model.ensure_fetched(year)
    listed = sorted(c.record_id for y in years for c in y.children)
    assert listed == sorted(r.id for r in large_store.deals_of_organisation(org_id, sector_id))
    assert listed == sorted(i for ids in by_year.values() for i in ids)
    assert [y.record_id for y in years] == sorted((y for y in by_year if y >= 0), reverse=True) + (
        [-1] if -1 in by_year else []
    )  # newest first, undated last, whatever the column sorted by
    qtmodeltester.check(model)


def _row_text(model: SectorTreeModel, index) -> str:
    return str(model.data(index, Qt.ItemDataRole.DisplayRole))


def test_a_record_far_down_a_big_listing_shows_after_a_gap_row_that_a_click_or_enter_opens(
    qtbot, window: MainWindow, large_store: Store
) -> None:
    """Selecting an organisation thousands of rows down a sector shows the first rows, a row
    standing for those between, and it; a click on that row (or Enter) shows the next chunk of
    them in their place, and a rename of one of them is in it when shown."""
    view, model = window.tree_view, window.tree_view.model
    big = biggest_sub_sector(model)
    fresh = SectorTreeModel(large_store)
    fresh.sort(*model._sort)  # type: ignore[misc]  # the view's order
    fresh_big = fresh.sector_node(big.record_id)
    assert fresh_big is not None
    fresh.ensure_fetched(fresh_big)
    expected = [(n.kind, n.record_id, n.name) for n in fresh_big.children]  # every row, as shown
    chunk = model.CHUNK
    assert len(expected) > 5 * chunk
    far = len(expected) * 3 // 4
    assert expected[far][0] == "organisation"
    totals = [n.total_usd for n in fresh_big.children]
    inside = next(  # one the gap stands for, whose rename cannot move it (no tie in totals)
        k
        for k in range(chunk + 20, far)
        if expected[k][0] == "organisation" and totals[k - 1] != totals[k] != totals[k + 1]
    )
    ref = RecordRef("organisation", expected[far][1])

    window.state.select(ref)

    (current,) = [i for i in view.tree.selectionModel().selectedRows(0) if model.node(i.parent()) is big]
    parent = current.parent()
    assert model.node(current).ref == ref and view.selected_refs() == [ref]
    first = current.row() - 1  # the rows above the gap row: the first chunk, as before
    assert chunk <= first < 2 * chunk
    assert [_row_text(model, model.index(r, 0, parent)) for r in range(first)] == [n for *_k, n in expected[:first]]
    gap_index = model.index(first, 0, parent)
    assert _row_text(model, gap_index) == f"⋯ {far - first:,} more"
    assert not model.hasChildren(gap_index) and model.data(gap_index, REF_ROLE) is None
    tooltip = str(model.data(gap_index, Qt.ItemDataRole.ToolTipRole))
    assert tooltip.startswith(f"{far - first:,} more organisations here")
    below = current.siblingAtRow(current.row() + 1)  # and the rows after it: none hidden unmarked
    assert _row_text(model, below) == f"⋯ {len(expected) - far - 1:,} more"
    assert model.rowCount(parent) == current.row() + 2

    # a rename of an organisation the gap stands for reaches it
    renamed = "Renamed while not shown"
    org = large_store.get("organisation", expected[inside][1])
    window.state.notify_changed(
        large_store.update("organisation", org.id, {"name": renamed}, expected_version=org.version)
    )
    window.state.wait_idle()
    expected[inside] = (*expected[inside][:2], renamed)

    view.tree.scrollTo(gap_index)
    qtbot.mouseClick(view.tree.viewport(), Qt.MouseButton.LeftButton, pos=view.tree.visualRect(gap_index).center())

    assert window.state.selection == [ref] and view.selected_refs() == [ref]  # the gap row selects nothing
    opened = [_row_text(model, model.index(r, 0, parent)) for r in range(first, first + chunk)]
    assert opened == [n for *_k, n in expected[first : first + chunk]]
    gap_index = model.index(first + chunk, 0, parent)
    assert _row_text(model, gap_index) == f"⋯ {far - first - chunk:,} more"

    view.tree.setCurrentIndex(gap_index)
    qtbot.keyClick(view.tree, Qt.Key.Key_Return)
    assert _row_text(model, model.index(first + chunk, 0, parent)) == expected[first + chunk][2]
    assert model.node(model.index(first + 2 * chunk, 0, parent)).kind == GAP

    # selecting a record the gap still stands for splits it around the record
    middle = next(k for k in range((first + 2 * chunk + far) // 2, far) if expected[k][0] == "organisation")
    window.state.select(RecordRef("organisation", expected[middle][1]))
    (current,) = [i for i in view.tree.selectionModel().selectedRows(0) if model.node(i.parent()) is big]
    assert model.node(current).record_id == expected[middle][1]
    before, after = (model.node(current.siblingAtRow(current.row() + d)) for d in (-1, 1))
    assert before.kind == GAP and after.kind == GAP
    assert model.node(current.siblingAtRow(current.row() + 2)).record_id == expected[far][1]

    # every row in its order once all are shown
    model.ensure_fetched(big)
    assert [(n.kind, n.record_id, n.name) for n in big.children] == expected


def test_a_listing_with_gap_rows_passes_qtmodeltester_and_reads_as_every_row(qtmodeltester, large_store: Store) -> None:
    def with_gaps() -> tuple[SectorTreeModel, Node, list[int]]:
        model = SectorTreeModel(large_store)
        model.sort(3, Qt.SortOrder.DescendingOrder)
        big = biggest_sub_sector(model)
        ids = [r.id for r in large_store.organisations_in_sector(big.record_id)]
        for k in (len(ids) // 2, len(ids) // 4, len(ids) - 1):  # a gap, split twice, then the end
            assert model.indexes_for(RecordRef("organisation", ids[k]))
        assert big.gaps is not None and len(big.gaps) >= 3
        return model, big, ids

    model, big, ids = with_gaps()
    model.ensure_fetched(big)
    assert big.gaps is None
    assert [n.record_id for n in big.children if n.kind == "organisation"] == ids
    # checked last: the tester fetches more of what it finds after every change it sees
    qtmodeltester.check(with_gaps()[0])


def test_under_a_new_filter_the_tree_reopens_what_was_open_while_it_stays_a_few_screens(
    qtbot, window: MainWindow, large_store: Store
) -> None:
    """What the user opened stays open under a filter while it adds up to a few screens of
    rows (every open listing is laid out on each change), and all of it again once the filter
    is cleared."""
    view, model = window.tree_view, window.tree_view.model
    sectors = model.loaded_nodes("sector")
    for node in sectors:
        view.tree.expand(model.index_of_node(node))
    qtbot.wait(20)

    def open_sectors() -> list[Node]:
        return [n for n in model.loaded_nodes("sector") if view.tree.isExpanded(model.index_of_node(n))]

    assert len(open_sectors()) == len(sectors)
    wide = Filters(start_day=day_number(dt.date(1990, 1, 1)), end_day=day_number(dt.date(2040, 1, 1)))
    window.state.set_filters(wide)
    window.state.wait_idle()
    qtbot.wait(20)

    # sectors with sub-sectors open anyway under a filter (to show them); the listings of
    # organisations reopened are those of the first sectors, a few screens of rows
    def listings(nodes: list[Node]) -> list[Node]:
        return [n for n in nodes if not any(c.kind == "sector" for c in n.children)]

    reopened = open_sectors()
    assert 0 < len(listings(reopened)) < len(listings(model.loaded_nodes("sector")))
    assert sum(model.rowCount(model.index_of_node(n)) for n in listings(reopened)) <= REOPEN_ROWS + EXPAND_ROWS
    assert reopened[0].record_id == sectors[0].record_id  # the first in the tree's order first

    window.state.set_filters(Filters())
    window.state.wait_idle()
    qtbot.wait(20)
    assert {n.record_id for n in open_sectors()} == {n.record_id for n in sectors}
