"""Files from the timeline tools analysts used before: TimelineJS (its Google-sheet template and
its JSON), vis-timeline (items and groups JSON), the Timeline desktop app (.timeline XML) and
calendars (.ics). Each becomes events and eras, cited to the file it came from; what a format
has and the app has not is listed as dropped, never silently lost.

Formats as their documentation describes them:
- TimelineJS sheet: Year, Month, Day, Time, End Year, End Month, End Day, End Time, Display Date,
  Headline, Text, Media, Media Credit, Media Caption, Media Thumbnail, Type (``title``/``era``),
  Group, Background.
- TimelineJS JSON: ``{"title": slide, "events": [slide], "eras": [era]}``, a slide having
  ``start_date``/``end_date`` objects (``year``, ``month``, ``day``, …), ``text`` (``headline``,
  ``text``), ``media`` (``url``, ``caption``, ``credit``), ``group``, ``unique_id``.
- vis-timeline: an array of items (or ``{"items": [...], "groups": [...]}``): ``id``,
  ``content``, ``start``, ``end``, ``group``, ``type`` (``box``, ``point``, ``range``,
  ``background``), ``title``; dates as ISO text or milliseconds since 1970.
- Timeline (thetimelineproj): ``<timeline><categories>…<events><event><start>2010-01-01
  00:00:00</start><end>…</end><text>…</text><fuzzy>…</fuzzy><category>…</category>
  <description>…</description><hyperlink>…</hyperlink></event>…<eras><era><name>…``.
- iCalendar (RFC 5545): ``VEVENT`` with ``DTSTART`` (a DATE or DATE-TIME), ``DTEND``,
  ``SUMMARY``, ``DESCRIPTION``, ``LOCATION``, ``URL``, ``UID``, ``CATEGORIES``.
No Qt here.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import uuid as uuid_mod
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from sqlalchemy import select as sa_select
from sqlmodel import Session

from explorer import schema
from explorer.models import EventKind
from explorer.store.errors import StoreError
from explorer.store.exchange import ImportReport, RawRow, file_problem

PEER_NAMESPACE = uuid_mod.UUID("0c3b7e8e-5a1f-4d3e-9b1e-6f2a4c8d9e01")
MAX_BYTES = 50_000_000
MAX_DEPTH = 64


class PeerFormatError(StoreError):
    title = "Cannot read the file"


@dataclass
class PeerItem:
    """One dated thing in a peer file: an event (a slide, an item, a calendar entry) or an era."""

    title: str
    start: dt.date
    precision: str  # day / month / year / approximate
    end: dt.date | None = None
    text: str = ""  # plain text (markup in the file is kept as text, never rendered)
    url: str | None = None  # a media link or the entry's address
    group: str | None = None
    location: str | None = None
    uid: str | None = None
    era: bool = False


@dataclass
class PeerFile:
    path: Path
    format: str  # "TimelineJS sheet", "TimelineJS JSON", "vis-timeline", "Timeline", "iCalendar"
    title: str
    items: list[PeerItem] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # what the app does not keep, said once each

    def drop(self, what: str) -> None:
        if what not in self.dropped:
            self.dropped.append(what)


# --- text and dates ---------------------------------------------------------------------------


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "p", "li", "div"):
            self.parts.append("\n")


def plain(text: Any) -> str:
    """Markup in a peer file's text as the words it shows (``<b>1 000</b> km`` → ``1 000 km``)."""
    if text is None:
        return ""
    raw = str(text)
    if "<" not in raw and "&" not in raw:
        return raw.strip()
    parser = _Text()
    parser.feed(raw)
    parser.close()
    return re.sub(r"[ \t]+\n", "\n", re.sub(r"\n{3,}", "\n\n", "".join(parser.parts))).strip()


def _int(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"{value!r} is not a whole number")
    return int(str(value).strip().split(".")[0]) if isinstance(value, str) else int(value)


def parts_date(year: Any, month: Any = None, day: Any = None) -> tuple[dt.date, str]:
    """A date given as its parts, with the precision the parts give (year only stays year)."""
    y = _int(year)
    if y is None:
        raise ValueError("no year")
    if not 1 <= y <= 9999:
        raise ValueError(f"year {y} is outside what the app keeps (1–9999)")
    mo, d = _int(month), _int(day)
    if mo is None:
        return dt.date(y, 1, 1), "year"
    if d is None:
        return dt.date(y, mo, 1), "month"
    return dt.date(y, mo, d), "day"


def iso_date(value: Any) -> tuple[dt.date, str]:
    """ISO text (2025, 2025-08, 2025-08-29, 2025-08-29T10:00Z) or milliseconds since 1970."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=float(value))).date(), "day"
    text = str(value).strip()
    found = re.match(r"^(-?\d{1,4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", text)
    if not found:
        raise ValueError(f"{text!r} is not a date")
    return parts_date(found.group(1), found.group(2), found.group(3))


def _uid(fmt: str, path: Path, item: PeerItem, n: int) -> str:
    """The same item gets the same UUID on every import of its file: a re-import updates."""
    key = item.uid or f"{item.title}|{item.start.isoformat()}|{n}"
    return str(uuid_mod.uuid5(PEER_NAMESPACE, f"{fmt}|{path.name}|{key}"))


# --- reading each format ----------------------------------------------------------------------


def read_peer(path: Path) -> PeerFile:
    """The events and eras of a peer tool's file (its format told from its name and content)."""
    refused = file_problem(path)
    if refused is not None:
        raise PeerFormatError(f"{path.name} {refused}")
    if path.stat().st_size > MAX_BYTES:
        raise PeerFormatError(f"{path.name} is larger than {MAX_BYTES // 1_000_000} MB.")
    suffix = path.suffix.lower()
    if suffix == ".ics":
        return _read_ics(path, _text(path))
    if suffix == ".timeline":
        return _read_timeline_app(path, _text(path))
    if suffix == ".json":
        return _read_json(path, _text(path))
    if suffix in (".csv", ".xlsx", ".xlsm", ".tsv"):
        return _read_timelinejs_sheet(path)
    raise PeerFormatError(f"{path.name}: not a file of a timeline tool the app knows.")


def is_peer_file(path: Path) -> bool:
    """A calendar, a Timeline app file, a TimelineJS or vis-timeline JSON, or a TimelineJS sheet."""
    suffix = path.suffix.lower()
    if file_problem(path) is not None:
        return False  # the exchange import says what is wrong with it
    if suffix in (".ics", ".timeline"):
        return True
    try:
        if suffix == ".json" and path.stat().st_size <= MAX_BYTES:
            head = path.read_text(encoding="utf-8-sig", errors="replace")[:4000]
            return '"partnership-explorer"' not in head and bool(re.search(r'"(events|items|content|start)"', head))
        if suffix in (".csv", ".xlsx", ".xlsm", ".tsv"):
            from explorer.store.spreadsheet import read_sheets

            headers = {h.strip().lower() for h in read_sheets(path)[0].headers}
            return {"year", "headline"} <= headers
    except (OSError, StoreError):
        return False
    return False


def _text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PeerFormatError(f"{path.name} is not UTF-8 text.") from None


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max([_depth(v, level + 1) for v in value.values()] or [level])
    if isinstance(value, list):
        return max([_depth(v, level + 1) for v in value] or [level])
    return level


def _read_json(path: Path, text: str) -> PeerFile:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise PeerFormatError(f"{path.name} is not valid JSON ({exc}).") from None
    if _depth(document) > MAX_DEPTH:
        raise PeerFormatError(f"{path.name} nests deeper than any timeline file does.")
    if isinstance(document, dict) and isinstance(document.get("events"), list):
        return _read_timelinejs_json(path, document)
    items = document.get("items") if isinstance(document, dict) else document
    if isinstance(items, list):
        groups = document.get("groups", []) if isinstance(document, dict) else []
        return _read_vis(path, items, groups if isinstance(groups, list) else [])
    raise PeerFormatError(f"{path.name} is neither a TimelineJS nor a vis-timeline JSON file.")


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _obj(value: Any) -> dict[str, Any]:
    """A JSON object, or an empty one for anything else (a file may hold anything)."""
    return value if isinstance(value, dict) else {}


def _slide_date(value: Any) -> tuple[dt.date, str] | None:
    if not isinstance(value, dict) or value.get("year") in (None, ""):
        return None
    return parts_date(value.get("year"), value.get("month"), value.get("day"))


def _read_timelinejs_json(path: Path, document: dict[str, Any]) -> PeerFile:
    title_text = _obj(_obj(document.get("title")).get("text"))
    out = PeerFile(path, "TimelineJS JSON", plain(title_text.get("headline")) or path.stem)
    events, eras = _list(document.get("events")), _list(document.get("eras"))
    for n, slide in enumerate([*events, *eras]):
        if not isinstance(slide, dict):
            out.drop("entries that are not objects")
            continue
        era = n >= len(events)
        try:
            start = _slide_date(slide.get("start_date"))
            end = _slide_date(slide.get("end_date"))
        except (ValueError, TypeError) as exc:
            out.drop(f"an entry with a date the app cannot keep ({exc})")
            continue
        if start is None:
            out.drop("entries without a start year")
            continue
        text, media = _obj(slide.get("text")), _obj(slide.get("media"))
        if media.get("credit") or media.get("caption") or media.get("thumbnail"):
            out.drop("media captions, credits and thumbnails (the media's address is kept as its source)")
        if slide.get("background"):
            out.drop("slide backgrounds")
        if any(_obj(slide.get(k)).get("hour") not in (None, "") for k in ("start_date", "end_date")):
            out.drop("times of day (dates are kept)")
        out.items.append(
            PeerItem(
                plain(text.get("headline")) or "Untitled",
                start[0],
                start[1],
                None if end is None else end[0],
                plain(text.get("text")),
                str(media["url"]) if media.get("url") else None,
                str(slide["group"]) if slide.get("group") else None,
                uid=str(slide["unique_id"]) if slide.get("unique_id") else None,
                era=era,
            )
        )
    if document.get("scale") not in (None, "human"):
        out.drop(f"the {document.get('scale')} scale")
    return out


def _read_timelinejs_sheet(path: Path) -> PeerFile:
    from explorer.store.spreadsheet import read_sheets

    sheet = read_sheets(path)[0]
    index = {h.strip().lower(): i for i, h in enumerate(sheet.headers)}
    if not {"year", "headline"} <= set(index):
        raise PeerFormatError(f"{path.name} is not a TimelineJS sheet (it needs Year and Headline columns).")

    def cell(row: list[Any], name: str) -> Any:
        i = index.get(name)
        value = row[i] if i is not None and i < len(row) else None
        return None if isinstance(value, str) and not value.strip() else value

    out = PeerFile(path, "TimelineJS sheet", path.stem)
    for n, row in enumerate(sheet.rows, start=2):
        kind = str(cell(row, "type") or "").strip().lower()
        if kind == "title":
            out.title = plain(cell(row, "headline")) or out.title
            continue
        try:
            if cell(row, "year") is None:
                out.drop("rows without a year")
                continue
            start = parts_date(cell(row, "year"), cell(row, "month"), cell(row, "day"))
            end = None
            if cell(row, "end year") is not None:
                end = parts_date(cell(row, "end year"), cell(row, "end month"), cell(row, "end day"))
        except (ValueError, TypeError) as exc:
            out.drop(f"row {n}: a date the app cannot keep ({exc})")
            continue
        for extra in (
            "time",
            "end time",
            "display date",
            "media credit",
            "media caption",
            "media thumbnail",
            "background",
        ):
            if cell(row, extra) is not None:
                out.drop(
                    {"time": "times of day (dates are kept)", "end time": "times of day (dates are kept)"}.get(
                        extra, f"the {extra.title()} column"
                    )
                )
        out.items.append(
            PeerItem(
                plain(cell(row, "headline")) or "Untitled",
                start[0],
                start[1],
                None if end is None else end[0],
                plain(cell(row, "text")),
                str(cell(row, "media")) if cell(row, "media") else None,
                str(cell(row, "group")) if cell(row, "group") else None,
                uid=f"row-{n}-{plain(cell(row, 'headline'))}",
                era=kind == "era",
            )
        )
    return out


def _read_vis(path: Path, items: list[Any], groups: list[Any]) -> PeerFile:
    names = {str(g.get("id")): plain(g.get("content")) for g in groups if isinstance(g, dict)}
    out = PeerFile(path, "vis-timeline", path.stem)
    for item in items:
        if not isinstance(item, dict) or "start" not in item:
            out.drop("items without a start")
            continue
        try:
            start = iso_date(item["start"])
            end = iso_date(item["end"]) if item.get("end") not in (None, "") else None
        except (ValueError, TypeError, OverflowError) as exc:
            out.drop(f"an item with a date the app cannot keep ({exc})")
            continue
        if item.get("className") or item.get("style"):
            out.drop("item styles and class names")
        group = item.get("group")
        out.items.append(
            PeerItem(
                plain(item.get("content")) or plain(item.get("title")) or "Untitled",
                start[0],
                start[1],
                None if end is None else end[0],
                plain(item.get("title")) if item.get("content") else "",
                group=names.get(str(group), str(group)) if group is not None else None,
                uid=str(item["id"]) if item.get("id") is not None else None,
                era=item.get("type") == "background",
            )
        )
    return out


def _read_timeline_app(path: Path, text: str) -> PeerFile:
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise PeerFormatError(f"{path.name} is not a Timeline file ({exc}).") from None
    if root.tag != "timeline":
        raise PeerFormatError(f"{path.name} is not a Timeline file (no <timeline> element).")
    out = PeerFile(path, "Timeline", path.stem)

    def when(value: str | None) -> tuple[dt.date, str]:
        if not value:
            raise ValueError("no date")
        return iso_date(value.strip().split(" ")[0])

    for n, element in enumerate([*root.iterfind("events/event"), *root.iterfind("eras/era")]):
        era = element.tag == "era"
        try:
            start = when(element.findtext("start"))
            end_text = element.findtext("end")
            end = when(end_text) if end_text else None
        except (ValueError, TypeError) as exc:
            out.drop(f"an entry with a date the app cannot keep ({exc})")
            continue
        fuzzy = (element.findtext("fuzzy") or "").strip().lower() == "true"
        if element.findtext("color") or element.findtext("icon"):
            out.drop("colours and icons")
        title = plain(element.findtext("name" if era else "text")) or "Untitled"
        out.items.append(
            PeerItem(
                title,
                start[0],
                "approximate" if fuzzy else "day",
                None if end is None or end[0] == start[0] else end[0],
                plain(element.findtext("description")),
                (element.findtext("hyperlink") or "").strip() or None,
                (element.findtext("category") or "").strip() or None,
                uid=f"{element.tag}-{n}-{title}",
                era=era,
            )
        )
    return out


def _unfold(text: str) -> list[str]:
    lines: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line[:1] in (" ", "\t") and lines:
            lines[-1] += line[1:]
        elif line:
            lines.append(line)
    return lines


def _ics_text(value: str) -> str:
    return value.replace("\\n", "\n").replace("\\N", "\n").replace("\\,", ",").replace("\\;", ";").replace("\\\\", "\\")


def _read_ics(path: Path, text: str) -> PeerFile:
    if "BEGIN:VCALENDAR" not in text.upper():
        raise PeerFormatError(f"{path.name} is not a calendar (no BEGIN:VCALENDAR).")
    out = PeerFile(path, "iCalendar", path.stem)
    current: dict[str, tuple[dict[str, str], str]] | None = None
    for line in _unfold(text):
        name_part, _, value = line.partition(":")
        name, *params = name_part.split(";")
        name = name.upper()
        if name == "BEGIN" and value.upper() == "VEVENT":
            current = {}
        elif name == "END" and value.upper() == "VEVENT" and current is not None:
            _ics_event(out, current)
            current = None
        elif current is not None:
            current.setdefault(name, (dict(p.split("=", 1) for p in params if "=" in p), value))
        elif name == "X-WR-CALNAME":
            out.title = _ics_text(value) or out.title
    return out


def _ics_event(out: PeerFile, props: dict[str, tuple[dict[str, str], str]]) -> None:
    def date_of(key: str) -> tuple[dt.date, bool] | None:
        if key not in props:
            return None
        _params, value = props[key]
        found = re.match(r"^(\d{4})(\d{2})(\d{2})", value.strip())
        if not found:
            raise ValueError(f"{value!r} is not an iCalendar date")
        return dt.date(int(found.group(1)), int(found.group(2)), int(found.group(3))), "T" in value

    try:
        start = date_of("DTSTART")
        end = date_of("DTEND")
    except ValueError as exc:
        out.drop(f"an event with a date the app cannot keep ({exc})")
        return
    if start is None:
        out.drop("events without a start")
        return
    if start[1]:
        out.drop("times of day (dates are kept)")
    end_day = None
    if end is not None:
        # An all-day DTEND is the day after the last one (RFC 5545).
        end_day = end[0] - dt.timedelta(days=0 if end[1] else 1)
        if end_day <= start[0]:
            end_day = None
    if "RRULE" in props:
        out.drop("repeat rules (each event is kept once)")
    if "ATTENDEE" in props or "ORGANIZER" in props:
        out.drop("attendees and organisers")
    out.items.append(
        PeerItem(
            _ics_text(props.get("SUMMARY", ({}, ""))[1]).strip() or "Untitled",
            start[0],
            "day",
            end_day,
            plain(_ics_text(props.get("DESCRIPTION", ({}, ""))[1])),
            props.get("URL", ({}, ""))[1].strip() or None,
            _ics_text(props.get("CATEGORIES", ({}, ""))[1]).split(",")[0].strip() or None,
            _ics_text(props.get("LOCATION", ({}, ""))[1]).strip() or None,
            props.get("UID", ({}, ""))[1].strip() or None,
        )
    )


# --- into records -----------------------------------------------------------------------------


# The record types a group of another tool can stand for (its lane here).
GROUP_TYPES = ("event", "pledge", "deal", "initiative")


def group_home(group: str | None) -> tuple[str, str | None]:
    """The record type and kind of event a group's name stands for: a lane ("Deals & MoUs"), a
    type ("Pledges", "Deal / MoU") or a kind of event ("Summits", "Visits"); else an event."""
    if not group:
        return "event", None
    said = " ".join(group.casefold().replace("&", " and ").split())
    spellings = {said, said.removesuffix("s"), said.removesuffix("es")}
    for kind in EventKind:
        if kind.value in spellings:
            return "event", kind.value
    for name in GROUP_TYPES:
        k = schema.kind(name)
        names = {k.name, k.label, k.legend_label, k.lane or ""}
        if spellings & {" ".join(n.casefold().replace("&", " and ").split()) for n in names}:
            return name, None
    return "event", None


def to_raw_rows(session: Session, peer: PeerFile, report: ImportReport) -> list[RawRow]:
    """The file's items as exchange rows: events and eras, each citing a source for the file (and
    one per media link), places matched by name where the app knows them."""
    from explorer.store.spreadsheet import _Names

    names = _Names(session)
    where = peer.path.name
    file_source = str(uuid_mod.uuid5(PEER_NAMESPACE, f"source|{peer.format}|{where}"))
    rows: list[RawRow] = [
        RawRow(
            "source",
            where,
            0,
            {
                "uuid": file_source,
                "title": f"{peer.title} ({peer.format} file {where})",
                "kind": "dataset",
                "notes": f"Imported from {where}." + (f" Not kept: {'; '.join(peer.dropped)}." if peer.dropped else ""),
            },
            from_csv=False,
        )
    ]
    media_seen: set[str] = set()
    for n, item in enumerate(peer.items, start=1):
        uid = _uid(peer.format, peer.path, item, n)
        rt, event_kind = ("era", None) if item.era else group_home(item.group)
        kind = schema.kind(rt)
        notes = item.text
        if item.group:
            notes = f"{notes}\n\nGroup in {peer.format}: {item.group}".strip()
        values: dict[str, Any] = {
            "uuid": uid,
            kind.title: item.title[:300],
            "start_date": item.start.isoformat(),
            "date_precision": item.precision,
            "end_date": item.end.isoformat() if item.end else None,
            "notes": notes or None,
        }
        if rt == "event":
            values["kind"] = event_kind or "announcement"
        if item.location and not item.era:
            try:
                if kind.field("place_id") is None:
                    raise LookupError(item.location)
                values["place_uuid"] = names.uuid("place", item.location)
            except LookupError:
                values["notes"] = f"{values['notes'] or ''}\n\nPlace: {item.location}".strip()
        rows.append(RawRow(rt, where, n, values, from_csv=False))
        rows.append(_citation(uid, rt, file_source, where, n, peer.format))
        if item.url:
            media = str(uuid_mod.uuid5(PEER_NAMESPACE, f"media|{item.url}"))
            if media in media_seen:
                rows.append(_citation(uid, rt, media, where, n, "link"))
                continue
            media_seen.add(media)
            rows.append(
                RawRow(
                    "source",
                    where,
                    n,
                    {"uuid": media, "title": f"{item.title[:250]} (link)", "kind": "dataset", "url": item.url[:2000]},
                    from_csv=False,
                )
            )
            rows.append(_citation(uid, rt, media, where, n, "link"))
    return rows


def _citation(record: str, record_type: str, source: str, where: str, n: int, section: str) -> RawRow:
    return RawRow(
        "citation",
        where,
        n,
        {
            "uuid": str(uuid_mod.uuid5(PEER_NAMESPACE, f"cite|{record}|{source}")),
            "source_uuid": source,
            "record_type": record_type,
            "record_uuid": record,
            "section": section,
        },
        from_csv=False,
    )


# --- out to the web: TimelineJS JSON and a calendar ------------------------------------------


def _parts(day: dt.date, precision: str) -> dict[str, int]:
    out = {"year": day.year}
    if precision in ("day", "month"):
        out["month"] = day.month
    if precision == "day":
        out["day"] = day.day
    return out


def export_timelinejs(session: Session, title: str) -> dict[str, Any]:
    """Every dated event, pledge, deal, initiative and target as TimelineJS slides (grouped by
    kind), and every era as a TimelineJS era: a story that can go to the web."""
    from explorer import schema

    events: list[dict[str, Any]] = []
    eras: list[dict[str, Any]] = []
    for kind in schema.kinds():
        if not kind.dated:
            continue
        table = kind.model.__table__
        cols = [table.c.uuid, table.c[kind.title], table.c.start_date, table.c.end_date, table.c.date_precision]
        notes = table.c.notes if "notes" in table.c else None
        rows = session.connection().execute(
            sa_select(*cols, *([notes] if notes is not None else [])).where(table.c.start_date.is_not(None))
        )
        for row in rows:
            slide: dict[str, Any] = {
                "start_date": _parts(row[2], row[4] or "day"),
                "text": {
                    "headline": html.escape(str(row[1] or "")),
                    "text": html.escape(str(row[5] or "")) if notes is not None else "",
                },
                "unique_id": str(row[0]),
            }
            if row[3] is not None:
                slide["end_date"] = _parts(row[3], "day")
            if kind.band:
                eras.append(slide)
            else:
                slide["group"] = kind.legend_label
                events.append(slide)
    return {"title": {"text": {"headline": html.escape(title), "text": ""}}, "events": events, "eras": eras}


def _ics_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def export_ics(session: Session, title: str) -> str:
    """Every dated event (summits, visits, announcements, signings) as an all-day calendar entry."""
    from explorer import models as m

    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Partnership Explorer//EN",
        f"X-WR-CALNAME:{_ics_escape(title)}",
    ]
    table = m.Event.__table__
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    query = sa_select(table.c.uuid, table.c.title, table.c.start_date, table.c.end_date, table.c.notes)
    for uid, name, start, end, notes in session.connection().execute(query.where(table.c.start_date.is_not(None))):
        last = end or start
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{start:%Y%m%d}",
            f"DTEND;VALUE=DATE:{last + dt.timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{_ics_escape(str(name or ''))}",
        ]
        if notes:
            lines.append(f"DESCRIPTION:{_ics_escape(str(notes))}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


def _fold(line: str) -> str:
    """RFC 5545: lines longer than 75 octets continue on the next, after one space."""
    data = line.encode()
    if len(data) <= 75:
        return line
    parts: list[str] = []
    start = 0
    while start < len(data):
        end = min(start + (75 if not parts else 74), len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # never inside a character
            end -= 1
        parts.append(data[start:end].decode())
        start = end
    return "\r\n ".join(parts)
