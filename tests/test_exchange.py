"""Import and export: round trips through CSV and JSON, row-level reports for bad files, undo."""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from explorer import models as m
from explorer.store import ConflictError, Store, exchange, open_store
from explorer.store.exchange import ImportFailedError


def records(store: Store) -> dict[str, dict[str, dict[str, Any]]]:
    """Every record by type and UUID, without the columns that belong to one database."""
    with store.read() as session:
        rows = exchange.export_rows(session)
    return {
        rt: {r["uuid"]: {k: v for k, v in r.items() if k not in exchange.INFO_COLUMNS} for r in rs}
        for rt, rs in rows.items()
    }


def full_state(store: Store) -> tuple[Any, int]:
    """Records with versions and timestamps, and the size of the change log."""
    with store.read() as session:
        rows = exchange.export_rows(session)
        logged = session.connection().execute(sa.select(sa.func.count()).select_from(m.ChangeLog)).scalar_one()
    return rows, logged


def read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, dialect="excel").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


# --- round trips --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_then_import_into_an_empty_database_gives_identical_records(
    store: Store, empty_target: Any, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / ("export" if fmt == "csv" else "export.json")
    store.export(out, fmt=fmt)
    before = records(store)
    target = open_store(empty_target)
    try:
        result = target.import_files([out])
        assert result.report.ok
        after = records(target)
    finally:
        target.close()
    assert set(after) == set(before)
    for rt in before:
        assert set(after[rt]) == set(before[rt]), rt
        for uid, row in before[rt].items():
            assert after[rt][uid] == row, (rt, uid)
    # The things most easily lost on the way: links, citations, non-Latin text.
    deals = before["deal"].values()
    assert any(len(d["organisations"]) >= 2 for d in deals)
    assert len(before["citation"]) > 50
    assert any("\u3000" <= ch <= "\u9fff" for p in before["person"].values() for ch in (p["native_name"] or ""))


def test_csv_files_are_what_excel_writes_and_documented(store: Store, tmp_path: Path) -> None:
    files = store.export(tmp_path / "out", fmt="csv")
    assert {p.name for p in files} == {f"{rt}.csv" for rt in exchange.TYPE_ORDER}
    raw = (tmp_path / "out" / "deal.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    assert b"\r\n" in raw
    assert read_csv(tmp_path / "out" / "deal.csv")[0] == exchange.columns("deal")
    docs = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for rt in exchange.TYPE_ORDER:
        assert f"`{rt}.csv`" in docs
        for column in exchange.columns(rt):
            assert f"`{column}`" in docs, (rt, column)


def test_a_selection_exports_with_everything_it_needs_and_imports_anywhere(store: Store, tmp_path: Path) -> None:
    with store.read() as session:
        deal = session.exec(sa.select(m.Deal).where(m.Deal.title.contains("Sojitz"))).scalar_one()
    out = tmp_path / "one.json"
    store.export(out, selection=[("deal", int(deal.id))])  # type: ignore[arg-type]
    data = json.loads(out.read_text(encoding="utf-8"))["records"]
    assert [d["title"] for d in data["deal"]] == [deal.title]
    assert len(data["organisation"]) == 2 and data["sector"] and data["citation"] and data["source"]
    assert not data["pledge"] or all(p["uuid"] for p in data["pledge"])
    target = open_store(tmp_path / "fresh.sqlite")
    result = target.import_files([out])
    assert result.report.ok and result.report.new["deal"] == 1
    detail = target.detail("deal", result.created[[t for t, _ in result.created].index("deal")][1])
    assert detail.citations
    target.close()


def test_a_file_made_elsewhere_is_matched_to_my_records_by_name_not_added_twice(store: Store, tmp_path: Path) -> None:
    """Another analyst's export whose records carry other UUIDs (their own copy, made by hand):
    a place and a sector held here under the same names are updated, not duplicated or refused,
    and their deal points at my records."""
    with store.read() as session:
        tokyo = session.exec(sa.select(m.Place).where(m.Place.name == "Tokyo")).scalar_one()
        deal = session.exec(sa.select(m.Deal).where(m.Deal.sector_id.is_not(None))).scalars().first()  # type: ignore[union-attr]
        assert deal is not None
        sector = session.get(m.Sector, deal.sector_id)
        assert sector is not None
    out = tmp_path / "theirs.json"
    store.export(out, selection=[("deal", int(deal.id))])  # type: ignore[arg-type]
    document = json.loads(out.read_text(encoding="utf-8"))
    records_in = document["records"]
    theirs_sector = str(uuid.uuid4())
    (sector_row,) = [r for r in records_in["sector"] if r["uuid"] == sector.uuid]
    sector_row["uuid"] = theirs_sector
    sector_row["name"] = sector.name.upper()  # typed differently: still the same sector
    place_uuid = str(uuid.uuid4())
    records_in.setdefault("place", []).append({**_place_row(store, tokyo), "uuid": place_uuid})
    (deal_row,) = records_in["deal"]
    deal_row.update(
        uuid=str(uuid.uuid4()), title="Their copy of a deal", sector_uuid=theirs_sector, place_uuid=place_uuid
    )
    out.write_text(json.dumps(document), encoding="utf-8")
    before = records(store)

    report = store.check_import([out])
    assert report.ok, report.text()
    assert {(rt, label.casefold()) for rt, label, _w, _r in report.matched} == {
        ("sector", sector.name.casefold()),
        ("place", "tokyo"),
    }
    assert "not added twice" in report.text()
    result = store.import_files([out])
    assert result.report.new.get("sector", 0) == 0 and result.report.new.get("place", 0) == 0
    assert result.report.new["deal"] == 1
    after = records(store)
    assert len(after["sector"]) == len(before["sector"]) and len(after["place"]) == len(before["place"])
    theirs = next(r for r in after["deal"].values() if r["title"] == "Their copy of a deal")
    assert (theirs["sector_uuid"], theirs["place_uuid"]) == (sector.uuid, tokyo.uuid)


def _place_row(store: Store, place: m.Place) -> dict[str, object]:
    out = {"uuid": place.uuid, "name": place.name, "kind": place.kind}
    with store.read() as session:
        country = session.get(m.Country, place.country_id) if place.country_id else None
    if country is not None:
        out["country_uuid"] = country.uuid
    return out


# --- applying, all or nothing, undo ---------------------------------------------------------------


def test_import_matches_by_uuid_backs_up_and_can_be_undone(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "csv"
    store.export(folder, fmt="csv")
    rows = read_csv(folder / "deal.csv")
    header = rows[0]
    title, uid = header.index("title"), header.index("uuid")
    old_title = rows[1][title]
    rows[1][title] = "Renamed in a spreadsheet"
    new_row = list(rows[2])
    new_row[uid], new_row[header.index("id")] = str(uuid.uuid4()), ""
    new_row[title] = "A deal added in Excel"
    rows.append(new_row)
    write_csv(folder / "deal.csv", rows)
    before = records(store)

    result = store.import_files([folder / "deal.csv"])
    assert result.report.new == {"deal": 1} and result.report.updated == {"deal": 1}
    after = records(store)
    assert after["deal"][rows[1][uid]]["title"] == "Renamed in a spreadsheet"
    assert after["deal"][new_row[uid]]["title"] == "A deal added in Excel"
    assert after["deal"][new_row[uid]]["organisations"] == before["deal"][rows[2][uid]]["organisations"]
    if store.path is not None:
        assert result.backup is not None and result.backup.exists()
        assert any(b.path == result.backup for b in store.list_backups())

    store.undo_import(result)
    assert records(store) == before
    assert before["deal"][rows[1][uid]]["title"] == old_title


def test_undoing_an_import_is_refused_if_an_imported_record_was_edited_since(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "csv"
    store.export(folder, fmt="csv")
    rows = read_csv(folder / "country.csv")
    header = rows[0]
    added = [""] * len(header)
    added[header.index("uuid")], added[header.index("code")], added[header.index("name")] = (
        str(uuid.uuid4()),
        "SG",
        "Singapore",
    )
    write_csv(tmp_path / "country.csv", [header, added])
    result = store.import_files([tmp_path / "country.csv"])
    ((rt, new_id),) = result.created
    store.update(rt, new_id, {"name": "Republic of Singapore"}, expected_version=result.versions[(rt, new_id)])
    with pytest.raises(ConflictError):
        store.undo_import(result)
    assert store.get("country", new_id).name == "Republic of Singapore"  # nothing undone, nothing lost


# --- malformed files: a row-level report, the database unchanged ------------------------------------


def _deal_rows(store: Store, tmp_path: Path) -> tuple[list[list[str]], dict[str, int]]:
    folder = tmp_path / "base"
    store.export(folder, fmt="csv")
    rows = read_csv(folder / "deal.csv")
    rows[1][rows[0].index("title")] = "An edit that must not land"  # a valid change beside the bad rows
    return rows, {name: n for n, name in enumerate(rows[0])}


def _bad_date(rows: list[list[str]], col: dict[str, int]) -> list[tuple[int, str]]:
    rows[3][col["start_date"]] = "2025-13-45"
    rows[5][col["end_date"]] = "someday"
    return [(4, "start_date"), (6, "end_date")]


def _unknown_currency(rows: list[list[str]], col: dict[str, int]) -> list[tuple[int, str]]:
    rows[2][col["amount"]], rows[2][col["currency"]] = "5", "EUR"
    return [(3, "currency")]


def _duplicate_ids(rows: list[list[str]], col: dict[str, int]) -> list[tuple[int, str]]:
    rows[4][col["uuid"]] = rows[2][col["uuid"]]
    rows[6][col["id"]] = rows[3][col["id"]]
    return [(5, "uuid"), (7, "id")]


def _wrong_columns(rows: list[list[str]], col: dict[str, int]) -> list[tuple[int, str]]:
    rows[0][col["title"]] = "titel"
    return [(1, "titel"), (1, "title")]


def _unknown_reference(rows: list[list[str]], col: dict[str, int]) -> list[tuple[int, str]]:
    rows[3][col["sector_uuid"]] = str(uuid.uuid4())
    rows[4][col["organisations"]] = f"{uuid.uuid4()}:lead"
    return [(4, "sector_uuid"), (5, "organisations")]


@pytest.mark.parametrize(
    "damage",
    [_bad_date, _unknown_currency, _duplicate_ids, _wrong_columns, _unknown_reference],
    ids=lambda f: f.__name__.strip("_"),
)
def test_a_bad_csv_gives_a_row_and_column_report_and_changes_nothing(store: Store, tmp_path: Path, damage: Any) -> None:
    rows, col = _deal_rows(store, tmp_path)
    expected = damage(rows, col)
    path = write_csv(tmp_path / "deal.csv", rows)
    before = full_state(store)
    report = store.check_import([path])
    found = {(p.row, p.column) for p in report.problems}
    assert set(expected) <= found, report.text()
    assert all(p.where == "deal.csv" and p.message for p in report.problems)
    with pytest.raises(ImportFailedError) as failed:
        store.import_files([path])
    assert "Nothing was imported" in str(failed.value)
    assert full_state(store) == before


def test_a_truncated_csv_is_reported_at_the_cut_row(store: Store, tmp_path: Path) -> None:
    rows, _col = _deal_rows(store, tmp_path)
    data = write_csv(tmp_path / "whole.csv", rows).read_bytes()
    last_row_start = data.rindex(b"\r\n", 0, len(data) - 2) + 2
    cut = tmp_path / "deal.csv"
    cut.write_bytes(data[: last_row_start + 60])  # in the middle of the last row
    before = full_state(store)
    report = store.check_import([cut])
    assert [p.row for p in report.problems] == [len(rows)], report.text()
    assert "cut short" in report.problems[0].message
    with pytest.raises(ImportFailedError):
        store.import_files([cut])
    assert full_state(store) == before


def test_a_csv_in_the_wrong_encoding_is_refused_with_the_row(store: Store, tmp_path: Path) -> None:
    rows, col = _deal_rows(store, tmp_path)
    rows[4][col["notes"]] = "Société Générale co-financing"
    path = write_csv(tmp_path / "deal.csv", rows, encoding="cp1252")
    before = full_state(store)
    report = store.check_import([path])
    assert not report.ok
    assert any("UTF-8" in p.message for p in report.problems), report.text()
    with pytest.raises(ImportFailedError):
        store.import_files([path])
    assert full_state(store) == before


def test_csv_without_a_bom_and_with_one_both_import(store: Store, tmp_path: Path) -> None:
    rows, _col = _deal_rows(store, tmp_path)
    for encoding in ("utf-8", "utf-8-sig"):
        assert store.check_import([write_csv(tmp_path / "deal.csv", rows, encoding)]).ok


def test_a_truncated_json_file_is_reported_and_changes_nothing(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "all.json"
    store.export(out)
    data = out.read_bytes()
    out.write_bytes(data[: len(data) // 2])
    before = full_state(store)
    report = store.check_import([out])
    assert len(report.problems) == 1 and "not valid JSON" in report.problems[0].message
    assert report.problems[0].row is not None
    assert full_state(store) == before


def test_json_rows_are_reported_by_type_and_position(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "all.json"
    store.export(out)
    document = json.loads(out.read_text(encoding="utf-8"))
    document["records"]["pledge"][1]["currency"] = "XYZ"
    document["records"]["event"][0]["start_date"] = "not a date"
    out.write_text(json.dumps(document), encoding="utf-8")
    report = store.check_import([out])
    found = {(p.where, p.row, p.column) for p in report.problems}
    assert found == {("all.json ▸ pledge", 2, "currency"), ("all.json ▸ event", 1, "start_date")}, report.text()


def test_a_100_mb_file_is_checked_row_by_row_and_changes_nothing(demo_path: Path, tmp_path: Path) -> None:
    # Reading and checking the file is the same on either backend: run once, on SQLite.
    store = open_store(demo_path)
    with store.read() as session:
        sector = session.exec(sa.select(m.Sector.uuid)).scalars().first()
    header = exchange.columns("deal")
    notes = "Generated to test a very large import; " * 50  # ~2 KB a row
    path = tmp_path / "deal.csv"
    bad_rows = {}
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, dialect="excel")
        writer.writerow(header)
        n = 1
        while handle.tell() < 100 * 1024 * 1024:
            n += 1
            row = dict.fromkeys(header, "")
            row.update(
                uuid=str(uuid.uuid4()),
                title=f"Generated deal {n}",
                sector_uuid=sector,
                notes=notes,
                start_date="2024-05-01",
                date_precision="day",
                organisations="",
            )
            if n % 20011 == 0:
                row["start_date"] = "2024-02-30"
                bad_rows[n] = "start_date"
            writer.writerow([row[c] for c in header])
    assert path.stat().st_size >= 100 * 1024 * 1024 and len(bad_rows) >= 2
    before = full_state(store)
    started = time.monotonic()
    with pytest.raises(ImportFailedError) as failed:
        store.import_files([path])
    report = failed.value.report
    assert {(p.row, p.column) for p in report.problems} == set(bad_rows.items())
    assert report.rows["deal"] == n - 1
    assert full_state(store) == before
    assert time.monotonic() - started < 120  # generous: a guard against hanging, not a benchmark


# --- the command line ---------------------------------------------------------------------------


def test_command_line_export_import_and_merge(
    demo_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from explorer.commands import run_command

    assert run_command(["export", "--db", str(demo_path), str(tmp_path / "csv")]) == 0
    assert (tmp_path / "csv" / "deal.csv").exists()
    rows = read_csv(tmp_path / "csv" / "country.csv")
    rows[1][rows[0].index("name")] = "Republic of India"
    rows[2][rows[0].index("code")] = ""
    write_csv(tmp_path / "country.csv", rows)
    assert run_command(["import", "--db", str(demo_path), str(tmp_path / "country.csv")]) == 1
    out = capsys.readouterr().out
    assert "Nothing was imported" in out and "country.csv, row 3, code: is required." in out
    assert run_command(["import", "--db", str(tmp_path / "empty.sqlite"), str(tmp_path / "csv")]) == 0

    theirs = tmp_path / "theirs.sqlite"
    assert run_command(["export", "--db", str(demo_path), str(theirs)]) == 0
    other = open_store(theirs)
    deal_id = other.list_records("deal")[0][0]
    other.update("deal", deal_id, {"notes": "Their note"}, expected_version=other.get("deal", deal_id).version)
    other.close()
    capsys.readouterr()
    assert run_command(["merge", "--db", str(demo_path), str(theirs)]) == 0
    assert "1 field(s) changed only in their file are taken" in capsys.readouterr().out
    mine = open_store(demo_path)
    assert mine.get("deal", deal_id).notes != "Their note"  # a review writes nothing
    mine.close()
    assert run_command(["merge", "--db", str(demo_path), str(theirs), "--accept"]) == 0
    mine = open_store(demo_path)
    assert mine.get("deal", deal_id).notes == "Their note"
    mine.close()


def _self_parent(records: dict[str, list[dict[str, Any]]]) -> None:
    sector = records["sector"][1]
    sector["parent_uuid"] = sector["uuid"]


def _loop_in_file(records: dict[str, list[dict[str, Any]]]) -> None:
    a, b = records["sector"][0], records["sector"][1]
    a["parent_uuid"], b["parent_uuid"] = b["uuid"], a["uuid"]


def _loop_through_database(records: dict[str, list[dict[str, Any]]]) -> None:
    child = next(s for s in records["sector"] if s.get("parent_uuid"))
    parent = next(s for s in records["sector"] if s["uuid"] == child["parent_uuid"])
    parent["parent_uuid"] = child["uuid"]  # only the parent is in the file; its child is in the database
    for name in records:
        records[name] = [parent] if name == "sector" else []


def _pledge_supersedes_itself(records: dict[str, list[dict[str, Any]]]) -> None:
    pledge = records["pledge"][0]
    pledge["supersedes_uuid"] = pledge["uuid"]


@pytest.mark.parametrize(
    "damage", [_self_parent, _loop_in_file, _loop_through_database, _pledge_supersedes_itself], ids=lambda f: f.__name__
)
def test_check_finds_exactly_what_the_import_refuses_in_chains_of_records(
    store: Store, tmp_path: Path, damage: Any
) -> None:
    """`explorer import --check` and the import agree: a record pointing at itself or a loop of
    parents (in the file or through the database) is reported by both, with the same words."""
    out = tmp_path / "all.json"
    store.export(out)
    document = json.loads(out.read_text(encoding="utf-8"))
    damage(document["records"])
    out.write_text(json.dumps(document), encoding="utf-8")
    before = full_state(store)
    report = store.check_import([out])
    assert not report.ok
    with pytest.raises(ImportFailedError) as refused:
        store.import_files([out])
    assert [str(p) for p in report.problems] == [str(p) for p in refused.value.report.problems]
    assert "loop" in report.text()
    assert full_state(store) == before


def _set(path: list[Any], value: Any) -> Any:
    def damage(document: dict[str, Any]) -> None:
        target: Any = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return damage


@pytest.mark.parametrize(
    ("damage", "column", "words"),
    [
        (_set(["format_version"], "two"), "format_version", "whole number"),
        (_set(["format_version"], float("nan")), "format_version", "whole number"),
        (_set(["format_version"], 1.5), "format_version", "whole number"),
        (_set(["records", "deal", 0, "organisations"], 5), "organisations", "must be a list"),
        (_set(["records", "event", 0, "participants"], {"a": 1}), "participants", "must be a list"),
        (_set(["records", "event", 0, "summit_number"], -1), "summit_number", "out of range"),
        (_set(["records", "event", 0, "summit_number"], "1_000"), "summit_number", "whole number"),
        (_set(["records", "event", 0, "summit_number"], "٣"), "summit_number", "whole number"),
        (_set(["records", "deal", 0, "amount"], "1e-400"), "amount", "too small"),
        (_set(["records", "deal", 0, "amount"], "1 000"), "amount", "a number"),
        (_set(["records", "storystep", 0, "selection"], "[" * 5000 + "]" * 5000), "selection", "nested too deeply"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_values_of_the_wrong_kind_are_refused_by_column_and_change_nothing(
    store: Store, tmp_path: Path, damage: Any, column: str, words: str
) -> None:
    out = tmp_path / "all.json"
    store.export(out)
    document = json.loads(out.read_text(encoding="utf-8"))
    damage(document)
    out.write_text(json.dumps(document), encoding="utf-8")
    before = full_state(store)
    report = store.check_import([out])
    assert any(p.column == column and words in p.message for p in report.problems), report.text()
    with pytest.raises(ImportFailedError):
        store.import_files([out])
    assert full_state(store) == before


def test_a_file_that_is_not_a_file_or_nested_for_ever_is_refused_not_read(store: Store, tmp_path: Path) -> None:
    """A link to /dev/zero would be read until memory runs out; JSON nested 100,000 deep would
    overflow the parser: both are refused with a message, quickly."""
    zero = tmp_path / "zero.json"
    zero.symlink_to("/dev/zero")
    assert "not a regular file" in store.check_import([zero]).text()
    deep = tmp_path / "deep.json"
    deep.write_text('{"format_version": 1, "records": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    assert "nested too deeply" in store.check_import([deep]).text()
