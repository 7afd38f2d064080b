"""Merging another analyst's file: matched by UUID, one-sided edits taken, both-sided edits reviewed."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from explorer import models as m
from explorer.store import Store, StoreError, exchange, open_store
from explorer.store.merge import MINE, THEIRS


def records(store: Store) -> dict[str, dict[str, dict[str, Any]]]:
    with store.read() as session:
        rows = exchange.export_rows(session)
    return {
        rt: {r["uuid"]: {k: v for k, v in r.items() if k not in exchange.INFO_COLUMNS} for r in rs}
        for rt, rs in rows.items()
    }


def find(store: Store, cls: type[m.Record], text: str) -> m.Record:
    column = cls.title if hasattr(cls, "title") else cls.name  # type: ignore[attr-defined]
    with store.read() as session:
        return session.exec(sa.select(cls).where(column.contains(text))).scalars().one()


def edit(store: Store, record: m.Record, **values: Any) -> None:
    rt = type(record).__tablename__  # type: ignore[attr-defined]
    current = store.get(rt, record.id)  # type: ignore[arg-type]
    store.update(rt, record.id, values, expected_version=current.version)  # type: ignore[arg-type]


@pytest.fixture
def two_analysts(store: Store, tmp_path: Path) -> tuple[Store, Store, Path]:
    """My database and a copy the other analyst took away (a file, also when mine is a server)."""
    theirs_path = tmp_path / "priya.sqlite"
    store.export(theirs_path, fmt="sqlite")
    theirs = open_store(theirs_path)
    yield store, theirs, theirs_path
    theirs.close()


def test_merge_takes_one_sided_edits_and_lists_exactly_the_conflicting_fields(
    two_analysts: tuple[Store, Store, Path],
) -> None:
    mine, theirs, theirs_path = two_analysts
    bullet = find(mine, m.Deal, "bullet train")
    steel = find(mine, m.Deal, "Nippon Steel expansion in Gujarat")
    pledge = find(mine, m.Pledge, "10 trillion")
    sojitz = find(mine, m.Organisation, "Sojitz")
    # Mine: the bullet train's notes and status; the pledge's notes.
    edit(mine, bullet, notes="Mine: first section opens 2027.", status="operational")
    edit(mine, pledge, notes="Mine: tracked yearly.")
    # Theirs: the bullet train's notes and status too (conflicts), its title (theirs only), the
    # steel deal's amount (theirs only), a new organisation and a new deal linking it to Sojitz.
    edit(
        theirs, bullet, notes="Theirs: corridor extended.", status="completed", title="Mumbai–Ahmedabad high-speed rail"
    )
    edit(theirs, steel, amount=1_000_000_000.0, currency="USD", usd_rate=1.0, amount_usd=1_000_000_000.0)
    org = theirs.create("organisation", {"name": "Kyoto Photonics", "kind": "company"}).changes[-1].record_id
    theirs.create(
        "deal",
        {
            "title": "Kyoto Photonics lab in Pune",
            "kind": "project",
            "start_date": "2025-09-01",
            "organisations": [(org, "lead"), (sojitz.id, "partner")],
        },
    )
    before = records(mine)

    plan = mine.plan_merge(theirs_path)
    conflicts = {(c.uuid, c.column): (c.mine, c.theirs) for c in plan.conflicts}
    assert conflicts == {
        (bullet.uuid, "notes"): ("Mine: first section opens 2027.", "Theirs: corridor extended."),
        (bullet.uuid, "status"): ("operational", "completed"),
    }
    assert {(c.uuid, c.column) for c in plan.take_theirs} == {
        (bullet.uuid, "title"),
        *((steel.uuid, col) for col in ("amount", "currency", "usd_rate", "amount_usd")),
    }
    assert {(c.uuid, c.column) for c in plan.kept_mine} == {(pledge.uuid, "notes")}
    assert {rt: len(rows) for rt, rows in plan.new_records.items()} == {"organisation": 1, "deal": 1}
    assert records(mine) == before  # reviewing writes nothing

    with pytest.raises(StoreError, match="every field"):
        mine.apply_merge(plan, {})
    assert records(mine) == before

    result = mine.apply_merge(plan, {(bullet.uuid, "notes"): THEIRS, (bullet.uuid, "status"): MINE})
    assert result.created == 2
    after = records(mine)
    merged = after["deal"][bullet.uuid]
    assert merged["title"] == "Mumbai–Ahmedabad high-speed rail"  # their edit
    assert merged["notes"] == "Theirs: corridor extended."  # conflict, theirs chosen
    assert merged["status"] == "operational"  # conflict, mine chosen
    assert after["deal"][steel.uuid]["amount_usd"] == 1_000_000_000.0  # their edit
    assert after["pledge"][pledge.uuid]["notes"] == "Mine: tracked yearly."  # my edit survives
    new_deal = next(d for d in after["deal"].values() if d["title"] == "Kyoto Photonics lab in Pune")
    kyoto = next(o for o in after["organisation"].values() if o["name"] == "Kyoto Photonics")
    assert sorted(new_deal["organisations"]) == sorted([[kyoto["uuid"], "lead"], [sojitz.uuid, "partner"]])
    if mine.path is not None:
        assert result.backup is not None and result.backup.exists()

    # Merging the same file again finds nothing new to take and nothing to ask.
    again = mine.plan_merge(theirs_path)
    assert again.empty, again.summary()


def test_a_later_edit_after_a_merge_is_told_apart(two_analysts: tuple[Store, Store, Path]) -> None:
    mine, theirs, theirs_path = two_analysts
    deal = find(mine, m.Deal, "Sojitz")
    edit(theirs, deal, notes="Theirs, first.")
    mine.apply_merge(mine.plan_merge(theirs_path), {})
    edit(theirs, deal, notes="Theirs, second.")
    plan = mine.plan_merge(theirs_path)
    assert [(c.uuid, c.column) for c in plan.take_theirs] == [(deal.uuid, "notes")] and not plan.conflicts
    mine.apply_merge(plan, {})
    edit(mine, deal, notes="Mine, third.")
    edit(theirs, deal, notes="Theirs, third.")
    plan = mine.plan_merge(theirs_path)
    assert [(c.uuid, c.column) for c in plan.conflicts] == [(deal.uuid, "notes")]


def test_a_merge_is_refused_if_my_database_changed_after_review(two_analysts: tuple[Store, Store, Path]) -> None:
    mine, theirs, theirs_path = two_analysts
    deal = find(mine, m.Deal, "Sojitz")
    edit(theirs, deal, notes="Theirs.")
    plan = mine.plan_merge(theirs_path)
    edit(mine, deal, status="completed")
    before = records(mine)
    with pytest.raises(StoreError, match="changed after the merge was reviewed"):
        mine.apply_merge(plan, {})
    assert records(mine) == before


def test_their_file_is_never_written_and_records_i_deleted_are_not_revived(
    two_analysts: tuple[Store, Store, Path],
) -> None:
    mine, theirs, theirs_path = two_analysts
    theirs.close()
    with mine.read() as session:
        person = session.exec(sa.select(m.Person).order_by(m.Person.id.desc())).scalars().first()
    mine.delete("person", person.id, expected_version=person.version, detach=True)  # type: ignore[arg-type]
    digest = theirs_path.read_bytes()
    plan = mine.plan_merge(theirs_path)
    deleted = {(rt, uid) for rt, uid, _label in plan.deleted_here}
    assert ("person", person.uuid) in deleted and {rt for rt, _uid in deleted} <= {"person", "citation"}
    assert not plan.new_records
    assert theirs_path.read_bytes() == digest
    assert not Path(f"{theirs_path}-wal").exists() or Path(f"{theirs_path}-wal").stat().st_size == 0


def test_a_file_that_is_not_a_database_or_the_same_file_is_refused(store: Store, tmp_path: Path) -> None:
    junk = tmp_path / "notes.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError):
        store.plan_merge(junk)
    other = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(StoreError, match="not a Partnership Explorer"):
        store.plan_merge(other)
    if store.path is not None:
        with pytest.raises(StoreError, match="already open"):
            store.plan_merge(store.path)


def test_a_name_both_gave_to_a_new_record_is_one_record_after_the_merge(
    two_analysts: tuple[Store, Store, Path],
) -> None:
    """A sector each analyst made under the same (unique) name is the same sector: matched by its
    name and listed for review, not refused as a clash nor added twice."""
    mine, theirs, theirs_path = two_analysts
    theirs_sector = theirs.create("sector", {"name": "Quantum computing"}).changes[-1].record_id
    theirs.create("organisation", {"name": "Kyoto Qubits", "kind": "company", "sector_id": theirs_sector})
    mine.create("sector", {"name": "quantum  Computing"})  # same name as people type it, another UUID
    plan = mine.plan_merge(theirs_path)
    assert plan.problems == []
    assert [(rt, label) for rt, _t, _m, label in plan.matched] == [("sector", "Quantum computing")]
    assert "Quantum computing" in plan.summary()
    mine.apply_merge(plan, {})
    sectors = [sid for sid, name in mine.list_records("sector") if name.casefold().split() == ["quantum", "computing"]]
    assert len(sectors) == 1
    org = next(o for o, name in mine.list_records("organisation") if name == "Kyoto Qubits")
    assert mine.get("organisation", org).sector_id == sectors[0]


def _export_bytes(store: Store, path: Path) -> bytes:
    """The JSON export without its one line that always differs (when it was made)."""
    store.export(path, fmt="json")
    return b"\n".join(line for line in path.read_bytes().splitlines() if b'"exported_at"' not in line)


def test_a_merge_is_undone_exactly_and_redone(two_analysts: tuple[Store, Store, Path], tmp_path: Path) -> None:
    mine, theirs, theirs_path = two_analysts
    bullet = find(mine, m.Deal, "bullet train")
    sojitz = find(mine, m.Organisation, "Sojitz")
    edit(theirs, bullet, notes="Theirs: corridor extended.", title="Mumbai–Ahmedabad high-speed rail")
    org = theirs.create("organisation", {"name": "Kyoto Photonics", "kind": "company"}).changes[-1].record_id
    theirs.create(
        "deal",
        {
            "title": "Kyoto Photonics lab in Pune",
            "kind": "project",
            "start_date": "2025-09-01",
            "organisations": [(org, "lead"), (sojitz.id, "partner")],
        },
    )
    before = _export_bytes(mine, tmp_path / "before.json")
    history_before = len(mine.detail("deal", bullet.id).history)
    result = mine.apply_merge(mine.plan_merge(theirs_path), {})
    assert _export_bytes(mine, tmp_path / "merged.json") != before
    mine.undo_merge(result)
    assert _export_bytes(mine, tmp_path / "undone.json") == before  # byte for byte
    assert len(mine.detail("deal", bullet.id).history) == history_before
    assert not mine.search("Kyoto Photonics")


def test_undoing_a_merge_is_refused_once_a_merged_record_was_edited(two_analysts: tuple[Store, Store, Path]) -> None:
    mine, theirs, theirs_path = two_analysts
    bullet = find(mine, m.Deal, "bullet train")
    edit(theirs, bullet, notes="Theirs.")
    result = mine.apply_merge(mine.plan_merge(theirs_path), {})
    edit(mine, find(mine, m.Deal, "bullet train"), status="completed")  # someone works on it since
    with pytest.raises(StoreError, match="changed since"):
        mine.undo_merge(result)
    assert find(mine, m.Deal, "bullet train").status == "completed"  # nothing undone
    assert find(mine, m.Deal, "bullet train").notes == "Theirs."


def test_a_record_both_made_separately_is_matched_by_name_not_added_twice(
    two_analysts: tuple[Store, Store, Path],
) -> None:
    mine, theirs, theirs_path = two_analysts
    india = mine.list_records("country")[0][0]
    mine.create("place", {"name": "Varanasi", "kind": "city", "country_id": india})
    created = theirs.create("place", {"name": "Varanasi", "kind": "city", "country_id": india})
    their_place = created.changes[-1].record_id
    theirs.create("deal", {"title": "Ghat restoration", "place_id": their_place})
    plan = mine.plan_merge(theirs_path)
    assert [(rt, label) for rt, _t, _m, label in plan.matched] == [("place", "Varanasi")]
    assert plan.new_count() == 1 and "linked to those, not added twice" in plan.summary()
    mine.apply_merge(plan, {})
    places = [pid for pid, name in mine.list_records("place") if name == "Varanasi"]
    assert len(places) == 1
    deal = next(d for d, title in mine.list_records("deal") if title == "Ghat restoration")
    assert mine.get("deal", deal).place_id == places[0]
