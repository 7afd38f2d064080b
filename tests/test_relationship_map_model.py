"""The relationship map's graph and layout without Qt: edges from the schema, ego networks with
caps, date filtering, deals folded into organisation links, paths, a deterministic layout."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import select

from explorer import models as m
from explorer.graph.layout import layout
from explorer.graph.model import (
    COLLAPSED,
    MORE,
    Edge,
    Graph,
    GraphFilter,
    Node,
    SortedIds,
    collapse_deals,
    ego,
    filtered,
    paths,
)
from explorer.graph.reader import reading
from explorer.store import Store, open_store
from explorer.store import graph as store_graph

# Tables that are no part of the partnership's map: workshop material and bookkeeping.
NOT_MAPPED = {"story", "storystep", "changelog", "meta", "alembic_version", "era"}


def independent_edges(path: Path) -> set[tuple[tuple[str, int], tuple[str, int]]]:
    """Every link in the file, read from SQLite's own description of the foreign keys (not from
    explorer/schema.py): a reference column of a record, a row of a link table (a table without
    an id of its own, two foreign keys), and a citation (the source → the record it names)."""
    conn = sqlite3.connect(path)
    out: set[tuple[tuple[str, int], tuple[str, int]]] = set()
    tables = [
        r[0]
        for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'search_index%'")
    ]
    for table in tables:
        if table in NOT_MAPPED or table == "citation" or table.startswith("sqlite_"):
            continue
        fks = conn.execute(f"PRAGMA foreign_key_list({table})").fetchall()
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        fks = [(fk[2], fk[3]) for fk in fks if fk[2] not in NOT_MAPPED]  # (target table, column)
        if "id" in columns:
            for target, column in fks:
                for rid, other in conn.execute(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL"):
                    out.add(((table, rid), (target, other)))
        elif len(fks) == 2:
            # the link's own record first: the first column of its key (event_id, then person_id)
            (own_table, own), (other_table, other) = sorted(fks, key=lambda fk: columns.index(fk[1]))
            for a, b in conn.execute(f"SELECT {own}, {other} FROM {table}"):
                out.add(((own_table, a), (other_table, b)))
    for source_id, record_type, record_id in conn.execute("SELECT source_id, record_type, record_id FROM citation"):
        out.add((("source", source_id), (record_type, record_id)))
    conn.close()
    return out


@pytest.fixture
def demo_store(demo_path: Path) -> Store:
    opened = open_store(demo_path)
    yield opened
    opened.close()


def test_the_maps_edges_equal_the_schemas_links_for_the_demo_data(demo_path: Path, demo_store: Store) -> None:
    expected = independent_edges(demo_path)
    with demo_store.engine.connect() as conn:
        drawn = {(e.source, e.target) for e in store_graph.all_edges(conn)}
    assert expected, "the demo has links"
    assert drawn == expected
    # Each record's own neighbourhood (what the map reads for an ego network) has the same edges.
    every = {k for pair in expected for k in pair}
    with reading(demo_store) as reader:
        found = reader.neighbours(sorted(every), cap=10_000)
    assert {(e.source, e.target) for e in found.edges} == expected
    assert not found.overflow


def test_every_link_of_the_schema_is_an_edge_type() -> None:
    from explorer import schema

    keys = {e.key for e in store_graph.edge_types()}
    for kind in schema.kinds():
        if kind.name in store_graph.node_types():
            for f in kind.fields:
                if f.kind == "ref" and f.ref in store_graph.node_types():
                    assert f"{kind.name}.{f.name}" in keys
            for link in kind.links:
                assert f"{kind.name}.{link.name}" in keys
    assert "citation" in keys  # sources cited by records


def deal_with_everything(store: Store) -> m.Deal:
    """A demo deal signed at an event, at a place, with organisations, filed under a pledge (the
    demo's deals name no pledge yet: one is set through the store's own write)."""
    with store.read() as s:
        deal = s.exec(select(m.Deal).where(m.Deal.event_id.is_not(None), m.Deal.place_id.is_not(None))).first()
        pledge = s.exec(select(m.Pledge).order_by(m.Pledge.id)).first()
        assert deal is not None and deal.id is not None and pledge is not None
    if deal.pledge_id is None:
        store.update("deal", deal.id, {"pledge_id": pledge.id}, expected_version=deal.version)
    with store.read() as s:
        found = s.get(m.Deal, deal.id)
        assert found is not None
        return found


def test_a_deals_ego_network_has_its_organisations_pledge_event_and_place_with_typed_edges(
    demo_store: Store,
) -> None:
    deal = deal_with_everything(demo_store)
    with demo_store.read() as s:
        orgs = s.exec(select(m.DealOrganisation).where(m.DealOrganisation.deal_id == deal.id)).all()
    assert orgs
    root = ("deal", deal.id)
    with reading(demo_store) as reader:
        graph = ego(reader, [root], hops=1)
    by_type = {(e.b if e.a == root else e.a): e for e in graph.edges_of(root)}
    assert by_type[("pledge", deal.pledge_id)].type_key == "deal.pledge_id"
    assert by_type[("pledge", deal.pledge_id)].relation == "under pledge"
    assert by_type[("event", deal.event_id)].relation == "signed at"
    assert by_type[("place", deal.place_id)].type_key == "deal.place_id"
    for link in orgs:
        edge = by_type[("organisation", link.organisation_id)]
        assert edge.type_key == "deal.organisations" and edge.relation == link.role


def test_a_busy_record_is_capped_and_the_rest_is_one_node_saying_how_many(demo_store: Store) -> None:
    from explorer.graph import model

    with demo_store.read() as s:
        counts = {}
        for deal in s.exec(select(m.Deal).where(m.Deal.sector_id.is_not(None))).all():
            counts[deal.sector_id] = counts.get(deal.sector_id, 0) + 1
    sector, total = max(counts.items(), key=lambda kv: kv[1])
    assert total > 3
    old = model.HOP_CAPS
    model.HOP_CAPS = (3, 1)
    try:
        with reading(demo_store) as reader:
            graph = ego(reader, [("sector", sector)], hops=1)
    finally:
        model.HOP_CAPS = old
    deals = [k for k in graph.neighbours(("sector", sector)) if k[0] == "deal"]
    assert len(deals) == 3
    groups = [n for n in graph.nodes.values() if n.is_group and n.record_type == "deal"]
    assert len(groups) == 1 and groups[0].group is not None
    assert groups[0].group.total == total
    assert f"+{total - 3:,} more deal" in groups[0].label
    assert any(f"3 of {total:,} deals" in note for note in graph.notes)


def test_ego_network_at_a_million_records_stays_within_its_budget() -> None:
    """Runs only where the benchmarks' 1e6 database was made (benchmarks/relationship_map.py)."""
    path = Path("/tmp/map-bench/synth-1000000.sqlite")
    if not path.exists():
        pytest.skip("no 1e6 database here")
    store = open_store(str(path), read_only=True)
    try:
        with reading(store) as reader:
            graph = ego(reader, [("sector", 13)])
        assert len(graph) <= 400
        assert any("35,122" in n.label or "more deal" in n.label for n in graph.nodes.values() if n.is_group)
    finally:
        store.close()


def _line(*days: float | None) -> Graph:
    """root (undated) — deal(day) — organisation, one branch per day."""
    g = Graph(roots=(("place", 1),))
    g.nodes[("place", 1)] = Node(("place", 1), "Place")
    for i, day in enumerate(days, start=1):
        g.nodes[("deal", i)] = Node(("deal", i), f"deal {i}", 1, day, day, 1e6 * i)
        g.nodes[("organisation", i)] = Node(("organisation", i), f"org {i}", 2)
        g.edges.append(Edge(("deal", i), ("place", 1), "deal.place_id", "place"))
        g.edges.append(Edge(("deal", i), ("organisation", i), "deal.organisations", "lead"))
    return g


def test_a_date_range_removes_the_edges_outside_it_and_what_only_they_linked() -> None:
    g = _line(100.0, 200.0, 300.0)
    shown = filtered(g, GraphFilter(150.0, 250.0))
    assert set(shown.nodes) == {("place", 1), ("deal", 2), ("organisation", 2)}
    assert {(e.a, e.b) for e in shown.edges} == {(("deal", 2), ("place", 1)), (("deal", 2), ("organisation", 2))}
    assert any("outside the filters" in n for n in shown.notes)
    assert filtered(g, GraphFilter()) is g


def test_the_global_filters_passing_ids_filter_dated_records() -> None:
    g = _line(100.0, 200.0)
    shown = filtered(g, GraphFilter(passing={"deal": frozenset({1})}))
    assert ("deal", 1) in shown.nodes and ("deal", 2) not in shown.nodes
    # as the scope holds them: a sorted array, asked by binary search
    shown = filtered(g, GraphFilter(passing={"deal": SortedIds(np.array([1, 5, 9]))}))
    assert ("deal", 1) in shown.nodes and ("deal", 2) not in shown.nodes


def test_deals_fold_into_organisation_links_weighted_by_count_and_usd() -> None:
    g = Graph(roots=(("organisation", 1),))
    for k in (1, 2, 3):
        g.nodes[("organisation", k)] = Node(("organisation", k), f"org {k}")
    for d, orgs, usd in ((1, (1, 2), 5.0), (2, (1, 2), 7.0), (3, (1, 3), 1.0)):
        g.nodes[("deal", d)] = Node(("deal", d), f"deal {d}", 1, 1.0, 1.0, usd)
        for o in orgs:
            g.edges.append(Edge(("deal", d), ("organisation", o), "deal.organisations", "partner"))
    folded = collapse_deals(g)
    assert not [k for k in folded.nodes if k[0] == "deal"]
    pairs = {(e.a, e.b): e for e in folded.edges}
    one_two = pairs[(("organisation", 1), ("organisation", 2))]
    assert one_two.type_key == COLLAPSED and one_two.count == 2 and one_two.usd == 12.0
    assert pairs[(("organisation", 1), ("organisation", 3))].count == 1


def test_paths_between_two_records_go_through_what_links_them(demo_store: Store) -> None:
    deal = deal_with_everything(demo_store)
    a, b = ("pledge", deal.pledge_id), ("place", deal.place_id)
    with reading(demo_store) as reader:
        found = paths(reader, a, b)
    assert a in found.nodes and b in found.nodes and ("deal", deal.id) in found.nodes
    assert (("deal", deal.id), a, "deal.pledge_id") in found.edge_keys()
    assert (("deal", deal.id), b, "deal.place_id") in found.edge_keys()
    degree = found.degree()
    assert all(degree[k] >= 2 for k in found.nodes if k not in (a, b))  # every record on a path links on
    with reading(demo_store) as reader:
        none = paths(reader, a, ("country", 10_000))
    assert not none.edges and any("No path" in n for n in none.notes)


def test_layout_is_deterministic_and_adding_a_node_moves_the_rest_little() -> None:
    keys = [("deal", i) for i in range(30)] + [("organisation", i) for i in range(8)]
    edges = [(("deal", i), ("organisation", i % 8), 1.0) for i in range(30)] + [
        (("organisation", i), ("organisation", (i + 1) % 8), 2.0) for i in range(8)
    ]
    first = layout(keys, edges)
    again = layout(list(reversed(keys)), list(reversed(edges)))
    assert first == again  # the same input (in any order) gives the same coordinates
    assert len({(round(x, 3), round(y, 3)) for x, y in first.values()}) == len(keys)
    grown = layout([*keys, ("deal", 99)], [*edges, (("deal", 99), ("organisation", 3), 1.0)], previous=first)
    before = np.array([first[k] for k in keys])
    after = np.array([grown[k] for k in keys])
    extent = float(np.ptp(before, axis=0).max())
    assert float(np.linalg.norm(before - after, axis=1).mean()) < 0.05 * extent
    assert np.linalg.norm(np.array(grown[("deal", 99)]) - np.array(grown[("organisation", 3)])) < 0.3 * extent


def test_pinned_nodes_stay_where_they_were_put() -> None:
    keys = [("deal", i) for i in range(10)]
    edges = [(("deal", i), ("deal", i + 1), 1.0) for i in range(9)]
    placed = layout(keys, edges, pinned={("deal", 0): (40.0, -3.0)})
    assert placed[("deal", 0)] == (40.0, -3.0)


def test_group_nodes_are_never_filtered_out() -> None:
    g = _line(100.0)
    group = store_graph.Overflow(("place", 1), "deal.place_id", "deal", 6, 1)
    g.nodes[(MORE, 1)] = Node((MORE, 1), "+5 more deals", 1, group=group)
    g.edges.append(Edge((MORE, 1), ("place", 1), "deal.place_id", "", count=5))
    shown = filtered(g, GraphFilter(500.0, 600.0))
    assert shown.nodes[(MORE, 1)].is_group and shown.nodes[(MORE, 1)].record_type == "deal"
