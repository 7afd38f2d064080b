"""Files from the timeline tools analysts used before, built as each format's documentation
describes them: TimelineJS (sheet and JSON), vis-timeline, the Timeline app, iCalendar."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlmodel import select

from explorer import models as m
from explorer.store import Store, open_store
from explorer.store.peer import PeerFormatError, is_peer_file, read_peer


def events(store: Store, prefix: str = "") -> dict[str, m.Event]:
    with store.read() as session:
        rows = session.exec(select(m.Event)).all()
    return {e.title: e for e in rows if e.title.startswith(prefix)}


def eras(store: Store) -> dict[str, m.Era]:
    with store.read() as session:
        return {e.title: e for e in session.exec(select(m.Era)).all()}


def sources_of(store: Store, record_type: str, record_id: int) -> list[tuple[str, str | None]]:
    out = []
    for source_id, _section, _note in store.citations_of(record_type, record_id):
        source = store.get("source", source_id)
        out.append((source.title, source.url))
    return out


# The TimelineJS template's columns, in the template's order (a Google Sheet downloaded as CSV).
TIMELINEJS_HEADERS = [
    "Year", "Month", "Day", "Time", "End Year", "End Month", "End Day", "End Time", "Display Date",
    "Headline", "Text", "Media", "Media Credit", "Media Caption", "Media Thumbnail", "Type", "Group", "Background",
]  # fmt: skip


def timelinejs_sheet(path: Path) -> Path:
    def row(**cells: object) -> list[object]:
        return [cells.get(h.lower().replace(" ", "_"), "") for h in TIMELINEJS_HEADERS]

    rows = [
        TIMELINEJS_HEADERS,
        row(
            headline="Seventy years of partners",
            text="<p>From a <b>peace treaty</b> to bullet trains</p>",
            type="title",
        ),
        row(year=1952, end_year=1972, headline="Early diplomatic years", type="era"),
        row(year=1857, headline="First recorded trade mission", text="Long before the treaty."),
        row(year=2006, month=12, headline="Strategic and Global Partnership", group="Diplomacy"),
        row(
            year=2015,
            month=12,
            day=12,
            headline="High-speed rail agreed",
            text="Shinkansen &amp; <i>E5</i> rolling stock",
            media="https://example.org/photos/shinkansen.jpg",
            media_credit="A photographer",
            group="Infrastructure",
        ),
        row(year=2025, headline="", text="A slide without a headline"),
    ]
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_a_timelinejs_sheet_imports_with_eras_groups_year_only_dates_and_old_years(
    store: Store, tmp_path: Path
) -> None:
    path = timelinejs_sheet(tmp_path / "partnership-timeline.csv")
    assert is_peer_file(path)
    peer = read_peer(path)
    assert peer.format == "TimelineJS sheet" and peer.title == "Seventy years of partners"
    assert "the Media Credit column" in peer.dropped  # said, not silently lost
    report, _peers = store.check_peer([path])
    assert report.ok, report.text()
    store.import_peer([path])

    found = events(store)
    trade = found["First recorded trade mission"]
    assert (trade.start_date, trade.date_precision) == (dt.date(1857, 1, 1), "year")  # before 1900, year only
    partnership = found["Strategic and Global Partnership"]
    assert (partnership.start_date, partnership.date_precision) == (dt.date(2006, 12, 1), "month")
    assert "Group in TimelineJS sheet: Diplomacy" in (partnership.notes or "")
    rail = found["High-speed rail agreed"]
    assert rail.notes.startswith("Shinkansen & E5 rolling stock")  # markup kept as its words, never rendered
    cited = sources_of(store, "event", rail.id)
    assert ("High-speed rail agreed (link)", "https://example.org/photos/shinkansen.jpg") in cited  # the media link
    assert any(title.startswith("Seventy years of partners (TimelineJS sheet file") for title, _url in cited)
    assert "Untitled" in found
    era = eras(store)["Early diplomatic years"]
    assert (era.start_date, era.end_date, era.date_precision) == (dt.date(1952, 1, 1), dt.date(1972, 1, 1), "year")

    # The same file again updates what it made; nothing is duplicated.
    before = len(store.list_records("event"))
    result = store.import_peer([path])
    assert len(store.list_records("event")) == before and result.report.new == {}


def test_a_timelinejs_json_imports_and_deep_or_broken_json_is_refused(store: Store, tmp_path: Path) -> None:
    document = {
        "title": {"text": {"headline": "Summits", "text": "Annual meetings"}},
        "events": [
            {
                "start_date": {"year": "2018", "month": "10", "day": "28"},
                "end_date": {"year": "2018", "month": "10", "day": "29"},
                "text": {"headline": "13th annual summit", "text": "<p>Yamanashi and Tokyo</p>"},
                "group": "Summits",
                "unique_id": "summit-13",
            },
            {"start_date": {"year": 1999}, "text": {"headline": "A year-only slide"}},
            {"text": {"headline": "No date at all"}},
        ],
        "eras": [{"start_date": {"year": 2014}, "end_date": {"year": 2020}, "text": {"headline": "Abe–Modi years"}}],
    }
    path = tmp_path / "summits.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    peer = read_peer(path)
    assert peer.format == "TimelineJS JSON" and "entries without a start year" in peer.dropped
    store.import_peer([path])
    summit = events(store)["13th annual summit"]
    assert (summit.start_date, summit.end_date, summit.notes) == (
        dt.date(2018, 10, 28),
        dt.date(2018, 10, 29),
        "Yamanashi and Tokyo\n\nGroup in TimelineJS JSON: Summits",
    )
    assert events(store)["A year-only slide"].date_precision == "year"
    assert "Abe–Modi years" in eras(store)

    deep = tmp_path / "deep.json"
    deep.write_text('{"events": ' + "[" * 5000 + "]" * 5000 + "}", encoding="utf-8")
    with pytest.raises(PeerFormatError, match=r"deeper|not valid JSON"):
        read_peer(deep)
    broken = tmp_path / "broken.json"
    broken.write_text('{"events": [', encoding="utf-8")
    with pytest.raises(PeerFormatError, match="not valid JSON"):
        read_peer(broken)


def test_vis_timeline_items_and_groups_import(store: Store, tmp_path: Path) -> None:
    document = {
        "items": [
            {"id": 1, "content": "<b>Modi visits Tokyo</b>", "start": "2014-08-30", "end": "2014-09-03", "group": "g1"},
            {"id": 2, "content": "Talks in Delhi", "start": 1567296000000, "group": "g1", "type": "point"},
            {"id": 3, "content": "Act East years", "start": "2014-11", "end": "2024", "type": "background"},
            {"id": 4, "content": "No start"},
        ],
        "groups": [{"id": "g1", "content": "Visits"}],
    }
    path = tmp_path / "vis.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    peer = read_peer(path)
    assert peer.format == "vis-timeline" and "items without a start" in peer.dropped
    store.import_peer([path])
    found = events(store)
    visit = found["Modi visits Tokyo"]
    assert (visit.start_date, visit.end_date) == (dt.date(2014, 8, 30), dt.date(2014, 9, 3))
    assert "Group in vis-timeline: Visits" in (visit.notes or "")
    assert found["Talks in Delhi"].start_date == dt.date(2019, 9, 1)  # milliseconds since 1970
    act_east = eras(store)["Act East years"]
    assert (act_east.start_date, act_east.date_precision) == (dt.date(2014, 11, 1), "month")


def test_a_timeline_app_file_imports_fuzzy_dates_categories_and_eras(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "partnership.timeline"
    path.write_text(
        """<?xml version="1.0" encoding="utf-8"?>
<timeline>
  <version>2.4.0</version>
  <timetype>gregoriantime</timetype>
  <categories><category><name>Trade</name><color>255,153,0</color></category></categories>
  <events>
    <event>
      <start>2011-02-16 00:00:00</start><end>2011-02-16 00:00:00</end>
      <text>Comprehensive Economic Partnership signed</text>
      <fuzzy>False</fuzzy><locked>False</locked><ends_today>False</ends_today>
      <category>Trade</category><description>Tariffs cut &lt;b&gt;on 94%&lt;/b&gt; of trade</description>
      <hyperlink>https://example.org/cepa</hyperlink>
    </event>
    <event>
      <start>1958-01-01 00:00:00</start><end>1958-01-01 00:00:00</end>
      <text>First yen loan</text><fuzzy>True</fuzzy>
    </event>
  </events>
  <eras>
    <era><name>Liberalisation</name><start>1991-07-24 00:00:00</start><end>2000-01-01 00:00:00</end>
      <color>200,200,200</color></era>
  </eras>
</timeline>
""",
        encoding="utf-8",
    )
    peer = read_peer(path)
    assert peer.format == "Timeline" and "colours and icons" in peer.dropped
    store.import_peer([path])
    cepa = events(store)["Comprehensive Economic Partnership signed"]
    assert cepa.start_date == dt.date(2011, 2, 16) and cepa.end_date is None
    assert cepa.notes.startswith("Tariffs cut on 94% of trade")
    assert ("Comprehensive Economic Partnership signed (link)", "https://example.org/cepa") in sources_of(
        store, "event", cepa.id
    )
    assert events(store)["First yen loan"].date_precision == "approximate"
    assert eras(store)["Liberalisation"].end_date == dt.date(2000, 1, 1)


def test_a_calendar_imports_all_day_events_with_places(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "visits.ics"
    path.write_bytes(
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nX-WR-CALNAME:Ministerial visits\r\n"
        b"BEGIN:VEVENT\r\nUID:visit-1@example.org\r\nDTSTAMP:20250101T000000Z\r\n"
        b"DTSTART;VALUE=DATE:20250829\r\nDTEND;VALUE=DATE:20250831\r\n"
        b"SUMMARY:Summit in Tokyo\\, day one and two\r\nLOCATION:Tokyo\r\n"
        b"DESCRIPTION:A long description that an editor folded over\r\n  two lines.\r\n"
        b"END:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:visit-2@example.org\r\nDTSTART:20240312T090000Z\r\n"
        b"SUMMARY:Morning call\r\nRRULE:FREQ=WEEKLY\r\nEND:VEVENT\r\n"
        b"END:VCALENDAR\r\n"
    )
    peer = read_peer(path)
    assert peer.title == "Ministerial visits"
    assert {"times of day (dates are kept)", "repeat rules (each event is kept once)"} <= set(peer.dropped)
    store.import_peer([path])
    summit = events(store)["Summit in Tokyo, day one and two"]
    tokyo = next(pid for pid, name in store.list_records("place") if name == "Tokyo")
    assert (summit.start_date, summit.end_date, summit.place_id) == (dt.date(2025, 8, 29), dt.date(2025, 8, 30), tokyo)
    assert summit.notes == "A long description that an editor folded over two lines."
    with pytest.raises(PeerFormatError, match="not a calendar"):
        (tmp_path / "x.ics").write_text("hello", encoding="utf-8")
        read_peer(tmp_path / "x.ics")


def test_the_partnership_goes_out_as_timelinejs_and_a_calendar_and_comes_back(store: Store, tmp_path: Path) -> None:
    with store.read() as session:
        dated = {e.title for e in session.exec(select(m.Event)).all() if e.start_date is not None}
    out = store.export(tmp_path / "partnership.ics", fmt="ics")[0]
    assert out.read_bytes().startswith(b"BEGIN:VCALENDAR\r\n")
    assert all(len(line) <= 75 for line in out.read_bytes().split(b"\r\n"))  # folded as RFC 5545 says
    assert {item.title for item in read_peer(out).items} == dated
    web = store.export(tmp_path / "partnership.json", fmt="timelinejs")[0]
    document = json.loads(web.read_text(encoding="utf-8"))
    assert {"title", "events", "eras"} <= set(document)
    again = read_peer(web)
    assert again.format == "TimelineJS JSON"
    assert dated <= {item.title for item in again.items}  # the summits among the pledges, deals …
    fresh = open_store(tmp_path / "empty.sqlite")
    try:
        fresh.import_peer([out])
        assert set(events(fresh)) == dated
    finally:
        fresh.close()


def test_the_timeline_draws_eras_as_bands(qtbot, state, view, tmp_path: Path) -> None:
    path = tmp_path / "eras.json"
    path.write_text(
        json.dumps(
            {
                "items": [
                    {
                        "id": 1,
                        "content": "Act East years",
                        "start": "2014-11-01",
                        "end": "2024-01-01",
                        "type": "background",
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    result = state.store.import_peer([path])
    state.notify_changed(result.changes)
    assert view.era_titles() == ["Act East years (2014–2024)"]
    assert "Act East years (2014–2024)" in view.legend_label.text()


ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a@example.org\r\nDTSTART;VALUE=DATE:20260115\r\n"
    "SUMMARY:Energy dialogue\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def test_a_calendar_opened_in_the_window_is_imported_as_one_undo_step(
    qtbot, window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QDialog

    from explorer.views import exchange as exchange_views

    shown: list[str] = []

    def accept(dialog: QDialog) -> int:
        shown.append(dialog.report_view.toPlainText())
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(exchange_views.ImportDialog, "exec", accept)
    path = tmp_path / "dialogues.ics"
    path.write_bytes(ICS.encode())
    assert window.open_file(path)
    assert shown and shown[0].startswith("dialogues.ics (iCalendar): 1 entries")
    store = window.state.store
    assert "Energy dialogue" in events(store)
    window.editing.ops.undo_stack.undo()
    assert "Energy dialogue" not in events(store)


def test_explorer_import_and_export_speak_the_peer_formats(demo_path: Path, tmp_path: Path, capsys) -> None:
    from explorer.commands import run_command

    path = tmp_path / "dialogues.ics"
    path.write_bytes(ICS.encode())
    assert run_command(["import", "--db", str(demo_path), "--check", str(path)]) == 0
    assert "dialogues.ics: iCalendar, 1 entries" in capsys.readouterr().out
    assert run_command(["import", "--db", str(demo_path), str(path)]) == 0
    assert run_command(["export", "--db", str(demo_path), str(tmp_path / "out.ics")]) == 0
    assert "Energy dialogue" in {item.title for item in read_peer(tmp_path / "out.ics").items}
    assert run_command(["export", "--db", str(demo_path), "--format", "timelinejs", str(tmp_path / "web.json")]) == 0
    assert read_peer(tmp_path / "web.json").format == "TimelineJS JSON"


def kumu_workbook(path: Path) -> Path:
    """As Kumu's import template has it: an Elements sheet and a Connections sheet."""
    import openpyxl

    book = openpyxl.Workbook()
    elements = book.active
    elements.title = "Elements"
    for row in [
        ["Label", "Type", "Description", "Tags"],
        ["Hitachi", "Company", "Rail and power systems", "rail; energy"],
        ["Toyota", "Organization", "", ""],  # already in the database: linked to, not made again
        ["Dholera plant", "Project", "A semiconductor fab", ""],
        ["Electronics", "Sector", "", ""],
        ["Dholera", "City", "", ""],
        ["A. Analyst", "Person", "<b>Field</b> researcher", ""],
        ["2026 investment forum", "Event", "", ""],
        ["Some idea", "Concept", "", ""],  # no such record type
    ]:
        elements.append(row)
    connections = book.create_sheet("Connections")
    for row in [
        ["From", "To", "Type", "Label"],
        ["Hitachi", "Dholera plant", "lead", "builds"],
        ["Toyota", "Dholera plant", "investor", ""],
        ["Dholera plant", "Electronics", "", ""],
        ["Dholera plant", "Dholera", "", ""],
        ["Hitachi", "Electronics", "", ""],
        ["A. Analyst", "2026 investment forum", "", ""],
        ["Hitachi", "A. Analyst", "employs", ""],  # no such link in the app
    ]:
        connections.append(row)
    book.save(path)
    return path


def test_a_kumu_map_becomes_records_and_links(store: Store, tmp_path: Path) -> None:
    from explorer.store.kumu import is_kumu_file

    path = kumu_workbook(tmp_path / "partnership map.xlsx")
    assert is_kumu_file(path)
    report, read = store.check_kumu([path])
    assert report.ok, report.text()
    assert "1 element(s) of type 'Concept'" in read.dropped
    assert "connections from a organisation to a person (no such link in the app)" in read.dropped
    before = {name for _i, name in store.list_records("organisation")}
    store.import_kumu([path])
    with store.read() as session:
        plant = session.exec(select(m.Deal).where(m.Deal.title == "Dholera plant")).one()
        roles = dict(
            session.exec(
                select(m.Organisation.name, m.DealOrganisation.role)
                .join(m.DealOrganisation, m.DealOrganisation.organisation_id == m.Organisation.id)
                .where(m.DealOrganisation.deal_id == plant.id)
            ).all()
        )
        hitachi = session.exec(select(m.Organisation).where(m.Organisation.name == "Hitachi")).one()
        sector = session.exec(select(m.Sector).where(m.Sector.name == "Electronics")).one()
        place = session.exec(select(m.Place).where(m.Place.name == "Dholera")).one()
        forum = session.exec(select(m.Event).where(m.Event.title == "2026 investment forum")).one()
        analyst = session.exec(select(m.Person).where(m.Person.name == "A. Analyst")).one()
        at_forum = session.exec(
            select(m.EventParticipant.person_id).where(m.EventParticipant.event_id == forum.id)
        ).all()
    assert roles == {"Hitachi": "lead", "Toyota": "investor"}
    assert (plant.sector_id, plant.place_id, hitachi.sector_id) == (sector.id, place.id, sector.id)
    assert hitachi.notes == "Rail and power systems\n\nKumu tags: rail; energy"
    assert analyst.notes == "Field researcher" and list(at_forum) == [analyst.id]
    assert {name for _i, name in store.list_records("organisation")} == before | {"Hitachi"}  # Toyota not doubled
    assert any(title.startswith("Kumu map") for title, _url in sources_of(store, "deal", plant.id))


def test_groups_become_the_lane_or_kind_they_name(store: Store, tmp_path: Path) -> None:
    """A vis-timeline group or TimelineJS group named like a lane ("Deals & MoUs", "Pledges") or
    a kind of event ("Visits") puts its items there; any other group is kept in the notes."""
    document = {
        "items": [
            {"id": 1, "content": "Metro loan signed", "start": "2016-11-11", "group": "deals"},
            {"id": 2, "content": "Five-year investment goal", "start": "2022-03", "group": "money"},
            {"id": 3, "content": "Prime minister in Tokyo", "start": "2018-10-28", "group": "trips"},
            {"id": 4, "content": "Working lunch", "start": "2019-01-05", "group": "misc"},
        ],
        "groups": [
            {"id": "deals", "content": "Deals &amp; MoUs"},
            {"id": "money", "content": "Pledges"},
            {"id": "trips", "content": "Visits"},
            {"id": "misc", "content": "Other business"},
        ],
    }
    path = tmp_path / "lanes.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    store.import_peer([path])
    with store.read() as session:
        deal = session.exec(select(m.Deal).where(m.Deal.title == "Metro loan signed")).one()
        pledge = session.exec(select(m.Pledge).where(m.Pledge.title == "Five-year investment goal")).one()
    assert (deal.start_date, pledge.start_date, pledge.date_precision) == (
        dt.date(2016, 11, 11),
        dt.date(2022, 3, 1),
        "month",
    )
    found = events(store)
    assert found["Prime minister in Tokyo"].kind == "visit"
    assert "Metro loan signed" not in found and "Five-year investment goal" not in found
    lunch = found["Working lunch"]
    assert lunch.kind == "announcement" and "Group in vis-timeline: Other business" in (lunch.notes or "")
    # Cited to the file like the events are.
    assert any("lanes.json" in title for title, _url in sources_of(store, "deal", deal.id))
