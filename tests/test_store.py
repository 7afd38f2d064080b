"""The store: queries the views rely on, safe opening of bad files, version-checked writes."""

from __future__ import annotations

import ast
import datetime as dt
import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from explorer import models as m
from explorer.store import (
    ConflictError,
    CorruptDatabaseError,
    DatabaseLockedError,
    Filters,
    NewerSchemaError,
    NotADatabaseError,
    ReadOnlyError,
    Store,
    ValidationError,
    migrate,
    open_store,
    queries,
)
from explorer.store.queries import TIMELINE_TYPES

ROOT = Path(__file__).resolve().parent.parent


def day(y: int, mo: int, d: int) -> int:
    return (dt.date(y, mo, d) - dt.date(1970, 1, 1)).days


# --- queries ------------------------------------------------------------------------------


def test_tree_lists_each_sector_with_its_organisations_and_right_totals(store: Store) -> None:
    with store.read() as s:
        deals = s.exec(select(m.Deal)).all()
        sectors = {x.id: x for x in s.exec(select(m.Sector)).all()}
    roots = store.sector_tree()
    flat = {}

    def walk(nodes):
        for node in nodes:
            flat[node.id] = node
            walk(node.children)

    walk(roots)
    assert set(flat) == set(sectors)

    def under(sid: int, target: int) -> bool:
        while sid is not None:
            if sid == target:
                return True
            sid = sectors[sid].parent_id
        return False

    for sid, node in flat.items():
        mine = [d for d in deals if d.sector_id is not None and under(d.sector_id, sid)]
        assert node.deal_count == len(mine), node.name
        assert node.total_usd == pytest.approx(sum(d.amount_usd or 0 for d in mine)), node.name

    energy = next(n for n in flat.values() if any("iogas" in d.title for d in deals if d.sector_id == n.id))
    orgs = store.organisations_in_sector(energy.id)
    names = {o.name for o in orgs}
    assert any("Sojitz" in n for n in names) and any("Indian Oil" in n for n in names)
    for org in orgs:
        rows = store.deals_of_organisation(org.id, energy.id)
        assert org.deal_count == len(rows)
        assert org.total_usd == pytest.approx(sum(r.amount_usd or 0 for r in rows))


def test_date_range_query_returns_exactly_the_overlapping_records(store: Store) -> None:
    start, end = day(2025, 8, 29), day(2025, 8, 30)
    data = store.timeline(start, end)
    with store.read() as s:
        expected = set()
        for code, name in enumerate(TIMELINE_TYPES):
            cls = m.RECORD_TYPES[name]
            for r in s.exec(select(cls)).all():
                if r.start_day is None:
                    continue
                last = r.end_day if r.end_day is not None else r.start_day
                if r.start_day <= end and last >= start:
                    expected.add((code, r.id))
    got = {(int(t), int(i)) for t, i in zip(data.record_type, data.record_id, strict=True)}
    assert got == expected
    assert len(got) >= 3  # the 15th summit, the Sendai visit, the 10 trillion yen pledge at least
    events = store.events_between(start, end)
    titles = " ".join(t for _, t in events)
    assert "15th" in titles and "Sendai" in titles
    assert not any("14th" in t for _, t in events)


def test_full_timeline_spans_from_2006_and_arrays_line_up(store: Store) -> None:
    data = store.timeline()
    assert len(data) == len(data.start) == len(data.label) == len(data.amount_usd)
    assert data.start.min() <= day(2006, 12, 31)
    assert (data.end >= data.start).all()
    i = data.index_of(
        "pledge", int(data.record_id[data.label == next(lab for lab in data.label if "10 trillion" in lab)][0])
    )
    assert data.amount_usd[i] == pytest.approx(68e9)


def test_search_finds_a_company_by_part_of_its_name(store: Store) -> None:
    hits = store.search("mitomo")
    assert any(h.record_type == "organisation" and "Sumitomo" in h.title for h in hits)
    assert any("Astroscale" in h.title for h in store.search("astro"))
    assert any("Sojitz" in h.title for h in store.search("SOJ"))  # case-insensitive
    assert store.search("zzqqxx") == []
    assert store.search('"; DROP TABLE deal; --') == []
    with store.read() as s:
        assert s.exec(select(m.Deal)).first() is not None


def test_detail_has_links_and_citations(store: Store) -> None:
    with store.read() as s:
        pledge = s.exec(select(m.Pledge).where(m.Pledge.amount == 10e12)).one()
    detail = store.detail("pledge", pledge.id)
    relations = {(link.relation, link.record_type) for link in detail.links}
    assert ("announced at", "event") in relations
    assert ("supersedes", "pledge") in relations
    assert detail.citations and detail.citations[0].section


# --- opening bad files --------------------------------------------------------------------


def make_old_database(path: Path) -> None:
    """A database as the first released schema (0001) left it, with a record in it."""
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        migrate.upgrade(conn, "0001")
        conn.execute(
            sa.text(
                "INSERT INTO sector (uuid, version, created_at, updated_at, name) "
                "VALUES ('u-1', 1, '2024-01-01 00:00:00', '2024-01-01 00:00:00', 'Shipbuilding')"
            )
        )
    engine.dispose()


def test_older_schema_is_upgraded_with_a_backup_and_keeps_its_data(tmp_path: Path, user_data_dir: Path) -> None:
    path = tmp_path / "old.sqlite"
    make_old_database(path)
    store = open_store(path)
    try:
        assert store.upgraded_from == "0001"
        with store.engine.connect() as conn:
            assert migrate.current_revision(conn) == migrate.head_revision()
        assert [h.title for h in store.search("Shipbuild")] == ["Shipbuilding"]
        assert store.backup_path is not None and store.backup_path.is_relative_to(user_data_dir)
        backup = sqlite3.connect(store.backup_path)
        assert backup.execute("SELECT version_num FROM alembic_version").fetchall() == [("0001",)]
        assert backup.execute("SELECT name FROM sector").fetchall() == [("Shipbuilding",)]
        backup.close()
    finally:
        store.close()


def test_newer_schema_is_refused_and_the_file_left_untouched(demo_path: Path) -> None:
    conn = sqlite3.connect(demo_path)
    conn.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    conn.commit()
    conn.close()
    before = demo_path.read_bytes()
    with pytest.raises(NewerSchemaError, match="newer version"):
        open_store(demo_path)
    assert demo_path.read_bytes() == before
    wal = Path(str(demo_path) + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # SQLite may open an empty log; nothing written


def test_corrupt_file_gives_a_clear_error_and_stays_identical(demo_path: Path) -> None:
    data = bytearray(demo_path.read_bytes())
    page = 4096
    for offset in range(2 * page, min(len(data), 6 * page)):
        data[offset] = 0xA5
    demo_path.write_bytes(bytes(data))
    with pytest.raises(CorruptDatabaseError) as info:
        open_store(demo_path)
    assert "damaged" in info.value.message or "integrity" in info.value.message
    assert demo_path.read_bytes() == bytes(data)


@pytest.mark.parametrize("content", [b"name,amount\nSojitz,1\n", b"\x00" * 10, "日本語のテキスト".encode()])
def test_a_file_that_is_not_a_database_is_refused_unchanged(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_bytes(content)
    with pytest.raises(NotADatabaseError, match="not"):
        open_store(path)
    assert path.read_bytes() == content


def test_someone_elses_sqlite_database_is_refused_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(NotADatabaseError, match="not a Partnership Explorer"):
        open_store(path)
    assert path.read_bytes() == before


def test_missing_file_in_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    from explorer.store import DatabaseMissingError

    with pytest.raises(DatabaseMissingError):
        open_store(tmp_path / "nowhere" / "x.sqlite")


def test_zero_byte_file_and_new_path_are_initialised_as_empty_databases(tmp_path: Path) -> None:
    for path in (tmp_path / "empty.sqlite", tmp_path / "new.sqlite"):
        if path.name == "empty.sqlite":
            path.touch()
        # A zero-byte file is set up once the person agreed (the app asks; tests/test_bad_files.py).
        store = open_store(path, set_up_empty=path.name == "empty.sqlite")
        assert store.sector_tree() == []
        store.close()


def test_read_only_open_never_writes_and_says_why(demo_path: Path) -> None:
    before = demo_path.read_bytes()
    store = open_store(demo_path, read_only=True)
    try:
        assert store.read_only and "read-only" in store.read_only_reason
        assert store.sector_tree()
        with pytest.raises(ReadOnlyError):
            store.create("sector", {"name": "Shipbuilding"})
    finally:
        store.close()
    assert demo_path.read_bytes() == before


def test_locked_database_gives_a_clear_error(demo_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("explorer.store.database.BUSY_TIMEOUT_MS", 200)
    store = open_store(demo_path)
    locker = sqlite3.connect(demo_path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseLockedError, match="busy"):
            store.create("sector", {"name": "Shipbuilding"})
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    store.create("sector", {"name": "Shipbuilding"})  # works once the other writer is gone
    assert any(h.title == "Shipbuilding" for h in store.search("Shipbuilding"))
    store.close()


# --- writes -------------------------------------------------------------------------------


def test_stale_version_on_write_is_rejected_and_nothing_is_lost(demo_path: Path) -> None:
    first, second = open_store(demo_path), open_store(demo_path)
    with first.read() as s:
        deal = s.exec(select(m.Deal).where(m.Deal.amount_usd == 4.76e9)).one()
    version = deal.version
    first.update("deal", deal.id, {"status": "operational"}, expected_version=version)
    with pytest.raises(ConflictError) as info:
        second.update("deal", deal.id, {"status": "completed", "notes": "x"}, expected_version=version)
    assert [c.field for c in info.value.conflicts] == ["status", "notes"]
    assert info.value.current["status"] == "operational"
    _, values = second.snapshot("deal", deal.id)
    assert values["status"] == "operational"
    first.close()
    second.close()


def test_invalid_values_are_refused_with_field_messages(store: Store) -> None:
    with pytest.raises(ValidationError) as info:
        store.create(
            "pledge",
            {
                "title": "",
                "amount": float("nan"),
                "currency": "XYZ",
                "start_date": dt.date(2025, 1, 2),
                "end_date": dt.date(2024, 1, 1),
            },
        )
    text = info.value.message
    assert "Title: is required" in text
    assert "Amount: must be a real number" in text
    assert "not a known currency" in text
    assert "End date: cannot be before" in text


def test_writes_are_logged_and_searchable(store: Store) -> None:
    change = store.create("organisation", {"name": "Kawasaki Heavy Industries", "kind": "company"})
    oid = change.changes[0].record_id
    version, _ = store.snapshot("organisation", oid)
    store.update("organisation", oid, {"notes": "Rolling stock."}, expected_version=version)
    history = store.detail("organisation", oid).history
    assert [(h.action, h.field) for h in history] == [("create", "name"), ("create", "kind"), ("update", "notes")]
    assert history[-1].new_value == "Rolling stock." and history[-1].user
    assert any(h.record_id == oid for h in store.search("Kawasaki"))


# --- architecture -------------------------------------------------------------------------


def test_models_and_store_never_import_qt() -> None:
    offenders = []
    files = [ROOT / "explorer" / "models.py", *(ROOT / "explorer" / "store").rglob("*.py")]
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}" for n in names if n.split(".")[0] in ("PySide6", "pyqtgraph", "shiboken6")
            ]
    assert offenders == []


def test_copy_of_demo_is_made_in_the_user_folder_not_the_package(user_data_dir: Path) -> None:
    from explorer.store import ensure_demo_copy

    path = ensure_demo_copy()
    assert path.is_relative_to(user_data_dir) and path.exists()
    shutil.copyfile(path, path.with_suffix(".bak"))
    store = open_store()
    assert store.path == path.resolve() or store.path == path
    store.close()


def test_cascaded_delete_can_be_restored_exactly(store: Store) -> None:
    with store.read() as s:
        org = s.exec(select(m.Organisation).where(m.Organisation.name.contains("Sojitz"))).one()
        deal = s.exec(select(m.Deal).where(m.Deal.title.contains("iogas"))).first()
    before_org = store.snapshot("organisation", org.id)[1]
    before_deal = store.snapshot("deal", deal.id)[1]
    citations_before = [(c.source_id, c.section, c.note) for c in store.detail("organisation", org.id).citations]
    with pytest.raises(ValidationError, match="refer to it"):
        store.delete("organisation", org.id, expected_version=org.version)
    bundle = store.capture_delete("organisation", org.id)
    changes = store.delete("organisation", org.id, expected_version=org.version, detach=True)
    assert ("update", "deal", deal.id) in {(c.action, c.record_type, c.record_id) for c in changes.changes}
    assert org.id not in [o for o, _ in store.snapshot("deal", deal.id)[1]["organisations"]]
    store.restore(bundle)
    assert store.snapshot("organisation", org.id)[1] == before_org
    assert store.get("organisation", org.id).uuid == org.uuid
    assert store.snapshot("deal", deal.id)[1]["organisations"] == before_deal["organisations"]
    after = [(c.source_id, c.section, c.note) for c in store.detail("organisation", org.id).citations]
    assert after == citations_before


def test_migrations_build_exactly_the_schema_the_models_describe(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    with engine.begin() as conn:
        migrate.upgrade(conn)
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": False,  # TEXT vs SQLModel's AutoString is the same column in SQLite
                "include_object": lambda obj, name, type_, reflected, compare_to: (
                    not (type_ == "table" and name is not None and name.startswith("search_index"))
                ),
            },
        )
        diffs = compare_metadata(context, m.SQLModel.metadata)
    engine.dispose()
    assert diffs == []


def _tree_rows(source, sectors) -> set[tuple]:
    """Every sector, organisation and deal row the tree would list, with counts and totals."""
    out: set[tuple] = set()
    stack = list(sectors)
    while stack:
        sector = stack.pop()
        out.add(("sector", sector.id, sector.deal_count, round(sector.total_usd, 2)))
        stack += sector.children
        for org in source.organisations_in_sector(sector.id):
            out.add(("organisation", sector.id, org.id, org.name, org.deal_count, round(org.total_usd, 2)))
            out |= {("deal", sector.id, org.id, d.id, d.title) for d in source.deals_of_organisation(org.id, sector.id)}
        out |= {("loose", sector.id, d.id) for d in source.unattributed_deals(sector.id)}
    return out


@pytest.mark.parametrize("chunk_rows", [None, 3], ids=["one-read", "many-chunks"])
def test_a_filter_scope_lists_what_the_per_row_queries_list(
    store: Store, chunk_rows: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The views' shared answer to a filter (one query, grouped in numpy) matches asking SQL row
    by row, also when the passing deals are read in many chunks (as on large databases)."""
    if chunk_rows is not None:
        monkeypatch.setattr(queries, "FETCH_CHUNK", chunk_rows)
    manufacturing = next(s for s in store.sector_tree() if s.name == "Manufacturing")
    india = next(i for i, name in store.list_records("country") if name == "India")
    cases = [
        Filters(text="steel"),
        Filters(sector_ids=store.sector_ids_with_descendants([manufacturing.id])),
        Filters(country_ids=frozenset({india})),
        Filters(start_day=int(store.timeline().start.max()) - 400, end_day=int(store.timeline().start.max())),
    ]
    for filters in cases:
        scope = store.filter_scope(filters)

        class PerRow:
            def organisations_in_sector(self, sid: int, f=filters):
                return store.organisations_in_sector(sid, f)

            def deals_of_organisation(self, oid: int, sid: int, f=filters):
                return store.deals_of_organisation(oid, sid, f)

            def unattributed_deals(self, sid: int, f=filters):
                return store.unattributed_deals(sid, f)

        expected = _tree_rows(PerRow(), store.sector_tree(filters))
        assert _tree_rows(scope, scope.sector_tree()) == expected and len(expected) > 3, filters
        dateless = replace(filters, start_day=None, end_day=None)
        if dateless.active:
            expected_ids = store.timeline_ids(dateless)
            assert {k: v.tolist() for k, v in scope.timeline_ids.items()} == {
                k: v.tolist() for k, v in expected_ids.items()
            }


def test_the_tree_group_of_deals_without_an_organisation_sums_what_it_lists(store: Store) -> None:
    """The group row's count and total (read without its deals) match the deals it opens to."""
    steel = Filters(text="steel")
    checked = 0
    for sector_id, _name in store.list_records("sector"):
        for filters in (None, steel):
            deals = store.unattributed_deals(sector_id, filters)
            count, total = store.unattributed_summary(sector_id, filters)
            assert count == len(deals)
            assert total == pytest.approx(sum(d.amount_usd or 0.0 for d in deals))
            checked += bool(deals)
    assert checked, "some sector has deals with no organisation"


def _sector_figures(store: Store) -> dict[int, tuple[int, float]]:
    out, stack = {}, list(store.sector_tree())
    while stack:
        node = stack.pop()
        out[node.id] = (node.deal_count, round(node.total_usd, 2))
        stack += node.children
    return out


def test_the_trees_remembered_answers_follow_every_kind_of_write(store: Store) -> None:
    """Sector totals and listings are kept between writes that cannot change them (a rename
    must not add up a million deals again); every write that can change them is seen."""

    def answers() -> tuple[dict[int, tuple[int, float]], dict[int, list[tuple[int, str, str, int, float]]]]:
        listings = {
            sid: [
                (r.id, r.name, r.country, r.deal_count, round(r.total_usd, 2))
                for r in store.organisations_in_sector(sid)
            ]
            for sid in sectors
        }
        return _sector_figures(store), listings

    def remembered_answers_are_current() -> bool:
        kept = answers()  # what the store kept across the write
        store._unchanged_cache = None
        return kept == answers()  # worked out anew (and kept again for the next write)

    sectors = [sid for sid, _name in store.list_records("sector") if store.organisations_in_sector(sid)]
    answers()
    sid = sectors[0]
    org = store.organisations_in_sector(sid)[0]
    version = store.get("organisation", org.id).version
    store.update("organisation", org.id, {"name": org.name + " Holdings"}, expected_version=version)
    assert store.cached_sector_tree() is not None  # a rename leaves the totals as they were
    assert remembered_answers_are_current()
    assert any(r.name == org.name + " Holdings" for r in store.organisations_in_sector(sid))
    record = next(
        store.get("deal", d.id)
        for s in sectors
        for o in store.organisations_in_sector(s)
        for d in store.deals_of_organisation(o.id, s)
        if store.get("deal", d.id).amount
    )
    store.update("deal", record.id, {"amount": record.amount * 3}, expected_version=record.version)
    assert store.cached_sector_tree() is None
    assert remembered_answers_are_current()
    other = next(s for s in sectors if s != sid)
    version = store.get("organisation", org.id).version
    store.update("organisation", org.id, {"sector_id": other}, expected_version=version)
    assert remembered_answers_are_current()
    country_id, country = store.list_records("country")[0]
    version = store.get("country", country_id).version
    store.update("country", country_id, {"name": country + " (renamed)"}, expected_version=version)
    assert remembered_answers_are_current()


def test_every_write_leaves_exactly_one_search_entry_per_record(store: Store) -> None:
    """Creating, renaming and deleting keep one index entry per record, under its current name
    (the entry is found through its title, not a scan of the whole index)."""

    def entries(record_id: int) -> list[str]:
        with store.engine.connect() as conn:
            return [
                t
                for (t,) in conn.execute(
                    sa.text("SELECT title FROM search_index WHERE record_type = 'organisation' AND record_id = :i"),
                    {"i": record_id},
                )
            ]

    store.create("organisation", {"name": "Quillon Robotics", "kind": "company"})
    oid = next(h.record_id for h in store.search("Quillon"))
    assert entries(oid) == ["Quillon Robotics"]
    version = store.get("organisation", oid).version
    store.update("organisation", oid, {"name": 'Quillon "Q" Robotics (Japan)'}, expected_version=version)
    assert entries(oid) == ['Quillon "Q" Robotics (Japan)']
    assert [h.record_id for h in store.search("Quillon")] == [oid]
    version = store.get("organisation", oid).version
    store.update("organisation", oid, {"name": "QR"}, expected_version=version)  # too short to match on
    assert entries(oid) == ["QR"]
    version = store.get("organisation", oid).version
    store.delete("organisation", oid, expected_version=version)
    assert entries(oid) == [] and store.search("Quillon") == []


def test_explorer_migrate_upgrades_a_database_once(tmp_path: Path, user_data_dir: Path) -> None:
    """An administrator upgrades a database's schema; analysts' copies then need no such rights."""
    import os
    import subprocess
    import sys

    path = tmp_path / "old.sqlite"
    make_old_database(path)
    env = dict(os.environ, EXPLORER_DATA_DIR=str(user_data_dir))
    first = subprocess.run(
        [sys.executable, "-m", "explorer", "migrate", "--db", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert first.returncode == 0, first.stderr
    assert f"from schema 0001 to {migrate.head_revision()}" in first.stdout
    again = subprocess.run(
        [sys.executable, "-m", "explorer", "migrate", "--db", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert again.returncode == 0 and "nothing to do" in again.stdout
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(migrate.head_revision(),)]
    assert conn.execute("SELECT name FROM sector").fetchall() == [("Shipbuilding",)]
    conn.close()
