"""The scope index (explorer.store.scope_index): filters answered from columns kept in memory
give what the SQL conditions give, and stay right after saves, undos, creations, deletions and
imports that change what passes."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from explorer.store import Filters, Store, open_store, scope_index
from explorer.store.scope import FilterScope


def _sql_scope(store: Store, filters: Filters, monkeypatch: pytest.MonkeyPatch) -> FilterScope:
    with monkeypatch.context() as patched:
        patched.setattr(scope_index, "passing", lambda *_args: None)
        patched.setattr(scope_index, "organisation_names", lambda _store, ids: scope_index.unknown_names(ids.size))
        return store.filter_scope(filters)


def _summary(scope: FilterScope) -> dict[str, object]:
    """What the views show of a scope: passing ids per type, the tree's sectors with counts and
    totals, each sector's organisations with theirs, and the deals each lists."""
    rows: list[tuple[object, ...]] = []
    stack = list(scope.sector_tree())
    while stack:
        sector = stack.pop()
        stack += sector.children
        rows.append(("sector", sector.id, sector.deal_count, round(sector.total_usd, 2), sector.organisation_count))
        for org in scope.organisations_in_sector(sector.id):
            deals = [d.id for d in scope.deals_of_organisation(org.id, sector.id)]
            rows.append(
                ("org", sector.id, org.id, org.name, org.country, org.deal_count, round(org.total_usd, 2), deals)
            )
        rows.append(("loose", sector.id, scope.unattributed_summary(sector.id)))
    timeline = None if scope.timeline_ids is None else {k: v.tolist() for k, v in scope.timeline_ids.items()}
    return {
        "ids": {k: v.tolist() for k, v in scope.ids.items()},
        "timeline": timeline,
        "tree": sorted(rows, key=repr),
    }


def _same(store: Store, filters: Filters, monkeypatch: pytest.MonkeyPatch) -> FilterScope:
    fast = store.filter_scope(filters)
    assert getattr(store, "_scope_index", None) is not None  # the index answered it
    assert _summary(fast) == _summary(_sql_scope(store, filters, monkeypatch)), filters
    return fast


def _named(store: Store, record_type: str, name: str) -> int:
    return next(i for i, label in store.list_records(record_type) if label == name)


def test_every_kind_of_filter_passes_what_the_sql_conditions_pass(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    days = store.timeline().start
    last = int(days.max())
    manufacturing = next(s for s in store.sector_tree() if s.name == "Manufacturing")
    sectors = store.sector_ids_with_descendants([manufacturing.id])
    india = _named(store, "country", "India")
    japan = _named(store, "country", "Japan")
    cases = [
        Filters(text="steel"),
        Filters(text="Steel plant"),  # two words, each anywhere in the title or notes
        Filters(text="rail 2"),  # a word too short for the trigram index narrows the match
        Filters(text="Toyota"),  # an organisation's name: its deals pass too
        Filters(text="zzzqqq"),  # nothing passes
        Filters(sector_ids=sectors),
        Filters(country_ids=frozenset({india})),
        Filters(country_ids=frozenset({india, japan})),
        Filters(start_day=last - 400, end_day=last),
        Filters(start_day=last - 2000),
        Filters(sector_ids=sectors, country_ids=frozenset({japan})),
        Filters(sector_ids=sectors, start_day=last - 3000, end_day=last),
        Filters(text="steel", country_ids=frozenset({india}), start_day=last - 5000, end_day=last),
    ]
    passed = 0
    for filters in cases:
        scope = _same(store, filters, monkeypatch)
        passed += sum(v.size for v in scope.ids.values()) > 0
    assert passed >= len(cases) - 2  # the cases are not all empty


def _deal_with_partner(store: Store) -> tuple[int, int]:
    scope = store.filter_scope(Filters(text="steel"))
    has = scope.link_org >= 0
    return int(scope.link_deal[has][0]), int(scope.link_org[has][0])


def test_a_title_save_and_its_undo_change_what_a_search_finds_with_the_index_kept(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    word = Filters(text="Quokkaville")
    assert store.filter_scope(word).ids["deal"].size == 0
    index = store._scope_index  # type: ignore[attr-defined]
    deal_id, _org = _deal_with_partner(store)
    version, values = store.snapshot("deal", deal_id)
    old = values["title"]
    store.update("deal", deal_id, {"title": old + " Quokkaville"}, expected_version=version)
    found = _same(store, word, monkeypatch)
    assert found.ids["deal"].tolist() == [deal_id]
    assert store._scope_index is index  # type: ignore[attr-defined]  # a title is not a kept column
    # the old title's words still find it, the rest of the deal's links stay as they were
    _same(store, Filters(text=old.split()[0]), monkeypatch)
    store.update("deal", deal_id, {"title": old}, expected_version=version + 1)  # what undo writes
    assert _same(store, word, monkeypatch).ids["deal"].size == 0
    assert deal_id in _same(store, Filters(text=old), monkeypatch).ids["deal"].tolist()


def test_moving_a_deal_to_another_sector_moves_it_between_sector_filters(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    tops = store.sector_tree()
    a, b = tops[0].id, tops[1].id
    in_a = Filters(sector_ids=store.sector_ids_with_descendants([a]))
    in_b = Filters(sector_ids=store.sector_ids_with_descendants([b]))
    deal_id = int(store.filter_scope(in_a).ids["deal"][0])
    index = store._scope_index  # type: ignore[attr-defined]
    version, _values = store.snapshot("deal", deal_id)
    store.update("deal", deal_id, {"sector_id": b}, expected_version=version)
    assert deal_id not in _same(store, in_a, monkeypatch).ids["deal"].tolist()
    assert deal_id in _same(store, in_b, monkeypatch).ids["deal"].tolist()
    assert store._scope_index is index  # type: ignore[attr-defined]  # its row read again, not all of it


def _japan_scope(store: Store) -> tuple[Filters, FilterScope]:
    """The filter by Japan, and what it lets through now."""
    by_japan = Filters(country_ids=frozenset({_named(store, "country", "Japan")}))
    return by_japan, store.filter_scope(by_japan)


def test_a_partner_added_to_a_deal_and_an_organisation_moved_show_in_the_filters(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_japan, scope = _japan_scope(store)
    index = store._scope_index  # type: ignore[attr-defined]
    japanese = int(scope.own_org[0]) if scope.own_org.size else int(scope.link_org[scope.link_org >= 0][0])
    outside = [int(i) for i in store.filter_scope(Filters()).ids["deal"] if int(i) not in scope.ids["deal"]]
    deal_id = outside[0]
    version, values = store.snapshot("deal", deal_id)
    partners = [
        (o["id"], o.get("role", "partner")) if isinstance(o, dict) else o for o in values.get("organisations") or []
    ]
    store.update("deal", deal_id, {"organisations": [*partners, japanese]}, expected_version=version)
    assert deal_id in _same(store, by_japan, monkeypatch).ids["deal"].tolist()
    # an organisation moved to another sector lists there (and its sector filter finds it)
    tops = store.sector_tree()
    version, values = store.snapshot("organisation", japanese)
    target = next(s.id for s in tops if s.id != values.get("sector_id"))
    store.update("organisation", japanese, {"sector_id": target}, expected_version=version)
    moved = _same(store, Filters(sector_ids=store.sector_ids_with_descendants([target])), monkeypatch)
    assert japanese in moved.own_org.tolist()
    assert store._scope_index is index  # type: ignore[attr-defined]


def test_a_new_deal_with_a_partner_passes_a_country_filter_and_leaves_it_when_deleted(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_japan, before = _japan_scope(store)
    partner = int(np.flatnonzero(before.own_org >= 0).size and before.own_org[0])
    created = store.create(
        "deal",
        {"title": "Wombat ferry", "kind": "project", "start_date": "2020-05-01", "organisations": [partner]},
    )
    deal_id = next(c.record_id for c in created.changes if c.record_type == "deal")
    scope = _same(store, by_japan, monkeypatch)
    assert deal_id in scope.ids["deal"].tolist()
    assert _same(store, Filters(text="Wombat"), monkeypatch).ids["deal"].tolist() == [deal_id]
    version, _values = store.snapshot("deal", deal_id)
    store.delete("deal", deal_id, expected_version=version)
    assert deal_id not in _same(store, by_japan, monkeypatch).ids["deal"].tolist()
    assert _same(store, Filters(text="Wombat"), monkeypatch).ids["deal"].size == 0


def test_an_import_and_its_undo_change_what_a_search_finds(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    word = Filters(text="Platypus")
    assert store.filter_scope(word).ids["event"].size == 0
    out = store.export(tmp_path / "out")[0]
    document = json.loads(out.read_text())
    # one new event, as another team's file would bring it
    document["records"] = {
        "event": [
            {
                "uuid": "5f0c8f64-1111-4c7e-9c51-000000000001",
                "title": "Platypus summit",
                "kind": "summit",
                "start_date": "2021-03-02",
                "date_precision": "day",
            }
        ]
    }
    src = tmp_path / "new.json"
    src.write_text(json.dumps(document))
    result = store.import_files([src])
    found = _same(store, word, monkeypatch).ids["event"].tolist()
    assert len(found) == 1
    store.undo_import(result)
    assert _same(store, word, monkeypatch).ids["event"].size == 0


def test_the_dates_left_out_for_the_timeline_come_from_the_same_index(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    last = int(store.timeline().start.max())
    filters = Filters(text="steel", start_day=last - 800, end_day=last)
    scope = _same(store, filters, monkeypatch)
    assert scope.timeline_ids is not None
    dateless = store.filter_scope(replace(filters, start_day=None, end_day=None))
    assert {k: v.tolist() for k, v in scope.timeline_ids.items()} == {k: v.tolist() for k, v in dateless.ids.items()}


def test_a_store_opened_again_reads_its_own_index(demo_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another window's store on the same file sees a save made here once it reads the change."""
    mine, theirs = open_store(demo_path), open_store(demo_path)
    try:
        word = Filters(text="Echidna")
        assert theirs.filter_scope(word).ids["deal"].size == 0
        deal_id = int(mine.filter_scope(Filters(text="steel")).ids["deal"][0])
        stamp = theirs.change_stamp()
        version, values = mine.snapshot("deal", deal_id)
        mine.update("deal", deal_id, {"title": values["title"] + " Echidna"}, expected_version=version)
        _newest, changes = theirs.changes_since(stamp)  # what their change watcher does
        assert changes
        assert _same(theirs, word, monkeypatch).ids["deal"].tolist() == [deal_id]
    finally:
        mine.close()
        theirs.close()


def test_a_renamed_organisation_and_country_show_their_new_names_in_the_next_scope(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = Filters(sector_ids=frozenset(s.id for s in store.sector_tree()))
    before = _same(store, everything, monkeypatch)
    org_id = int(before.own_org[0])
    index = store._scope_index  # type: ignore[attr-defined]
    version, _values = store.snapshot("organisation", org_id)
    store.update("organisation", org_id, {"name": "Bilby Forge"}, expected_version=version)
    japan = _named(store, "country", "Japan")
    version, _values = store.snapshot("country", japan)
    store.update("country", japan, {"name": "Nippon"}, expected_version=version)
    after = _same(store, everything, monkeypatch)
    listed = {(r.id, r.name) for s in store.sector_tree() for r in after.organisations_in_sector(s.id)}
    assert (org_id, "Bilby Forge") in listed
    assert "Nippon" in {r.country for s in store.sector_tree() for r in after.organisations_in_sector(s.id)}
    assert store._scope_index is index  # type: ignore[attr-defined]  # caught up, not read again


def test_per_pair_counts_agree_whether_tabled_or_sorted() -> None:
    """A scope counts (sector, organisation) pairs in a table when ids are small and few sectors
    pass, else by sorting them: either way each pair's links and total are the plain count."""
    from explorer.store.scope import _per_pair

    rng = np.random.default_rng(3)
    sector = rng.integers(1, 6, 5_000)
    amount = rng.random(5_000)
    near = rng.integers(1, 400, 5_000)
    far = near.copy()
    far[::7] += 50_000_000  # ids far apart: too wide a table, so these pairs are sorted
    for organisation in (near, far):
        plain: dict[tuple[int, int], list[float]] = {}
        for s, o, a in zip(sector.tolist(), organisation.tolist(), amount.tolist(), strict=True):
            plain.setdefault((s, o), []).append(a)
        got_sector, got_org, count, total = _per_pair(sector, organisation, amount)
        assert list(zip(got_sector.tolist(), got_org.tolist(), strict=True)) == sorted(plain)
        assert count.tolist() == [len(plain[k]) for k in sorted(plain)]
        assert np.allclose(total, [sum(plain[k]) for k in sorted(plain)])
