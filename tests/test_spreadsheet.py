"""Spreadsheets as analysts have them: Excel- and LibreOffice-written files with title-case headers,
only some columns, names instead of UUIDs, day-first or serial dates, amounts with separators."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import select

from explorer import models as m
from explorer.store import Store
from explorer.store.exchange import ImportFailedError
from explorer.store.spreadsheet import (
    SheetImport,
    SpreadsheetError,
    auto_mapping,
    guess_type,
    parse_amount,
    parse_date,
    read_sheets,
)


def plans_for(path: Path, record_type: str | None = None, order: str = "dmy") -> list[SheetImport]:
    out = []
    for sheet in read_sheets(path):
        rt = record_type or guess_type(sheet)
        assert rt is not None
        out.append(SheetImport(sheet, rt, auto_mapping(rt, sheet.headers), order))  # type: ignore[arg-type]
    return out


def write_excel_csv(path: Path, rows: list[list[str]]) -> Path:
    """As Excel's "CSV UTF-8" writes it: a byte-order mark, commas, CRLF line ends."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, dialect="excel").writerows(rows)
    return path


DIALOGUES = [
    ["Title", "Kind", "Date", "Place", "Notes"],
    ["First 2+2 ministerial dialogue", "Visit", "30/11/2019", "New Delhi", "Foreign and defence ministers."],
    ["Second 2+2 ministerial dialogue", "visit", "08/09/2022", "Tokyo", "Held in Tokyo."],
    ["Third 2+2 ministerial dialogue", "Visit", "Aug 2024", "New Delhi", ""],
]


def events_titled(store: Store, prefix: str) -> list[m.Event]:
    with store.read() as session:
        return list(session.exec(select(m.Event).where(m.Event.title.startswith(prefix))).all())  # type: ignore[attr-defined]


def test_a_name_referenced_csv_without_uuids_imports_and_a_reimport_updates(store: Store, tmp_path: Path) -> None:
    path = write_excel_csv(tmp_path / "2plus2 dialogues (Sheet1).csv", DIALOGUES)
    plans = plans_for(path, "event")
    assert plans[0].mapping == {
        "Title": "title",
        "Kind": "kind",
        "Date": "start_date",
        "Place": "place_uuid",
        "Notes": "notes",
    }
    report = store.check_spreadsheet(plans)
    assert report.ok, report.text()
    store.import_spreadsheet(plans)
    rows = {e.title: e for e in events_titled(store, "First 2+2") + events_titled(store, "Second 2+2")}
    rows |= {e.title: e for e in events_titled(store, "Third 2+2")}
    assert len(rows) == 3
    delhi = next(pid for pid, name in store.list_records("place") if name == "New Delhi")
    first = rows["First 2+2 ministerial dialogue"]
    assert (first.start_date, first.date_precision, first.kind, first.place_id) == (
        dt.date(2019, 11, 30),
        "day",
        "visit",
        delhi,
    )
    third = rows["Third 2+2 ministerial dialogue"]
    assert (third.start_date, third.date_precision) == (dt.date(2024, 8, 1), "month")

    # The same file again, one note changed: the records are updated, none duplicated, and the
    # columns the sheet does not have (summit number) keep what was there.
    with store.write() as session:
        session.get(m.Event, first.id).summit_number = 7  # type: ignore[union-attr]
    again = [row[:] for row in DIALOGUES]
    again[1][4] = "Foreign and defence ministers met in New Delhi."
    path = write_excel_csv(tmp_path / "2plus2 dialogues (Sheet1).csv", again)
    report = store.check_spreadsheet(plans_for(path, "event"))
    # Listed for review: every row is a record already held, matched by its title and date.
    assert len(report.matched) == len(DIALOGUES) - 1 and {rt for rt, *_ in report.matched} == {"event"}
    result = store.import_spreadsheet(plans_for(path, "event"))
    assert result.report.new == {} and result.report.updated == {"event": 1}
    assert len(events_titled(store, "First 2+2")) == 1
    first = events_titled(store, "First 2+2")[0]
    assert first.notes == "Foreign and defence ministers met in New Delhi." and first.summit_number == 7


def test_an_excel_workbook_with_real_dates_serials_and_amounts_imports(store: Store, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Deals"
    ws.append(["Title", "Organisations", "Sector", "Amount", "Currency", "USD per unit", "Date", "Status"])
    ws.append(
        [
            "Hydrogen plant MoU",
            "Toyota; Suzuki Motor (lead)",
            "Manufacturing",
            "¥12,500,000,000",  # the currency from its symbol
            None,
            0.0068,
            dt.datetime(2025, 8, 29),  # a date cell
            "Announced",
        ]
    )
    ws.append(["EV battery line", "Suzuki Motor", "Manufacturing", 3_000_000_000, "inr", 0.012, 45658, "under way"])
    ws.append(["Skills centre", "Toyota", None, "US$ 1,250,000", None, None, "c. 2026", None])
    ws.append(["Rail study", None, None, None, None, None, "2027", "Planned"])
    path = tmp_path / "tracker.xlsx"
    book.save(path)

    plans = plans_for(path)
    assert plans[0].record_type == "deal"  # the sheet's name says so
    report = store.check_spreadsheet(plans)
    assert report.ok, report.text()
    store.import_spreadsheet(plans)
    with store.read() as session:
        deals = {d.title: d for d in session.exec(select(m.Deal)).all()}
        toyota = session.exec(select(m.Organisation).where(m.Organisation.name == "Toyota")).one()
        suzuki = session.exec(select(m.Organisation).where(m.Organisation.name == "Suzuki Motor")).one()
        hydrogen = deals["Hydrogen plant MoU"]
        roles = dict(
            session.exec(
                select(m.DealOrganisation.organisation_id, m.DealOrganisation.role).where(
                    m.DealOrganisation.deal_id == hydrogen.id
                )
            ).all()
        )
    assert roles == {toyota.id: "partner", suzuki.id: "lead"}
    assert (hydrogen.amount, hydrogen.currency, hydrogen.start_date, hydrogen.status) == (
        12.5e9,
        "JPY",
        dt.date(2025, 8, 29),
        "announced",
    )
    battery = deals["EV battery line"]
    assert (battery.start_date, battery.status) == (dt.date(2025, 1, 1), "under_way")  # serial 45658
    assert (battery.currency, battery.amount_usd) == ("INR", pytest.approx(36e6))
    skills = deals["Skills centre"]
    assert (skills.amount, skills.currency, skills.usd_rate) == (1_250_000.0, "USD", 1.0)
    assert (skills.start_date, skills.date_precision) == (dt.date(2026, 1, 1), "approximate")
    rail = deals["Rail study"]
    assert (rail.start_date, rail.date_precision, rail.status) == (dt.date(2027, 1, 1), "year", "planned")


def test_a_sheet_with_problems_is_refused_whole_with_row_and_column(store: Store, tmp_path: Path) -> None:
    rows = [
        ["Title", "Date", "Place"],
        ["A good row", "01/02/2025", "Tokyo"],
        ["Unknown city", "02/02/2025", "Atlantis"],
        ["Bad date", "31/02/2025", "Tokyo"],
        ["", "03/02/2025", "Tokyo"],
    ]
    path = write_excel_csv(tmp_path / "events.csv", rows)
    plans = plans_for(path)
    assert plans[0].record_type == "event"
    report = store.check_spreadsheet(plans)
    assert not report.ok
    found = {(p.row, p.column) for p in report.problems}
    assert found == {(3, "Place"), (4, "Date"), (5, "Title")}, report.text()
    assert "Atlantis" in report.text()
    before = len(store.list_records("event"))
    with pytest.raises(ImportFailedError):
        store.import_spreadsheet(plans)
    assert len(store.list_records("event")) == before
    assert events_titled(store, "A good row") == []


def test_a_csv_that_is_not_utf8_is_refused_with_how_to_save_it(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("Name\nMünchen\n".encode("latin-1"))
    with pytest.raises(SpreadsheetError, match="UTF-8"):
        read_sheets(path)


def test_semicolon_separated_files_from_european_locales_are_read(tmp_path: Path) -> None:
    path = tmp_path / "places.csv"
    path.write_text("Name;Kind;Country\nPune;city;IN\nKyoto;city;JP\n", encoding="utf-8")
    sheet = read_sheets(path)[0]
    assert sheet.headers == ["Name", "Kind", "Country"] and sheet.rows[1] == ["Kyoto", "city", "JP"]
    assert guess_type(sheet) == "place"
    assert auto_mapping("place", sheet.headers)["Country"] == "country_uuid"


@pytest.mark.parametrize(
    ("cell", "order", "expected"),
    [
        ("29/08/2025", "dmy", (dt.date(2025, 8, 29), "day")),
        ("03/04/2025", "dmy", (dt.date(2025, 4, 3), "day")),
        ("03/04/2025", "mdy", (dt.date(2025, 3, 4), "day")),
        ("2025-08-29", "mdy", (dt.date(2025, 8, 29), "day")),
        ("29.08.2025", "dmy", (dt.date(2025, 8, 29), "day")),
        (45658, "dmy", (dt.date(2025, 1, 1), "day")),
        ("45658", "dmy", (dt.date(2025, 1, 1), "day")),
        (dt.datetime(2025, 8, 29, 0, 0), "dmy", (dt.date(2025, 8, 29), "day")),
        ("Aug 2025", "dmy", (dt.date(2025, 8, 1), "month")),
        ("August 2025", "mdy", (dt.date(2025, 8, 1), "month")),
        ("29 Aug 2025", "mdy", (dt.date(2025, 8, 29), "day")),
        ("Aug 29, 2025", "dmy", (dt.date(2025, 8, 29), "day")),
        ("2025-08", "dmy", (dt.date(2025, 8, 1), "month")),
        ("2025", "dmy", (dt.date(2025, 1, 1), "year")),
        (2025, "dmy", (dt.date(2025, 1, 1), "year")),
        ("1857", "dmy", (dt.date(1857, 1, 1), "year")),
        ("c. 2025", "dmy", (dt.date(2025, 1, 1), "approximate")),
        ("circa Aug 2025", "dmy", (dt.date(2025, 8, 1), "approximate")),
    ],
)
def test_dates_as_people_type_them(cell: object, order: str, expected: tuple[dt.date, str]) -> None:
    assert parse_date(cell, order) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("cell", ["31/02/2025", "next year", "2025-13-01", "Aug", "", "1/2/3/4"])
def test_what_is_not_a_date_is_refused(cell: str) -> None:
    with pytest.raises(ValueError):
        parse_date(cell)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1,234,567", (1234567.0, None)),
        ("1 234 567", (1234567.0, None)),
        ("US$ 2.5", (2.5, "USD")),
        ("¥10,000", (10000.0, "JPY")),
        ("₹ 500", (500.0, "INR")),
        ("1500 JPY", (1500.0, "JPY")),
        (3.5, (3.5, None)),
    ],
)
def test_amounts_as_people_type_them(cell: object, expected: tuple[float, str | None]) -> None:
    assert parse_amount(cell) == expected


@pytest.mark.parametrize("cell", ["1.234,5", "12,34", "ten", "1e-400", "--5"])
def test_amounts_that_read_two_ways_are_refused(cell: str) -> None:
    with pytest.raises(ValueError):
        parse_amount(cell)


def test_explorer_import_takes_a_spreadsheet_with_its_type_and_date_order(
    demo_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from explorer.commands import run_command
    from explorer.store import open_store

    path = write_excel_csv(
        tmp_path / "tracker.csv", [["Headline", "When", "Where"], ["Trade talks", "04/03/2025", "Tokyo"]]
    )
    assert (
        run_command(["import", "--db", str(demo_path), "--type", "event", "--dates", "mdy", "--check", str(path)]) == 0
    )
    assert "Headline → title" in capsys.readouterr().out
    assert run_command(["import", "--db", str(demo_path), "--type", "event", "--dates", "mdy", str(path)]) == 0
    store = open_store(demo_path)
    try:
        (talks,) = events_titled(store, "Trade talks")
        assert talks.start_date == dt.date(2025, 4, 3)  # month first, as asked
    finally:
        store.close()
    assert run_command(["import", "--db", str(demo_path), "--type", "meeting", str(path)]) == 2


def test_a_sheet_read_for_its_first_rows_counts_them_all_and_reads_them_when_imported(tmp_path: Path) -> None:
    path = tmp_path / "places.csv"
    path.write_text("Name,Kind\n" + "".join(f"Town {i},city\n" for i in range(50)), encoding="utf-8")
    sheet = read_sheets(path, keep=10)[0]
    assert len(sheet.rows) == 10 and sheet.row_count == 50 and not sheet.complete
    assert sheet.all_rows()[-1] == ["Town 49", "city"] and sheet.complete
    again = read_sheets(path, keep=10)[0]
    path.write_text("Name,Kind\nSomewhere else,city\n", encoding="utf-8")
    with pytest.raises(SpreadsheetError, match="changed since it was read"):
        again.all_rows()
