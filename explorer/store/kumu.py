"""Kumu maps as Kumu's import spreadsheets hold them: an Elements sheet (Label, Type, Description,
Tags, …) and a Connections sheet (From, To, Type, Label, Description, …), in one workbook or as two
CSV files. Elements become the records their type names (people, organisations, places, sectors,
events, deals, initiatives); connections become the links the schema has between those (a person
at an event, an organisation in a deal with its role, an organisation's sector, a deal's or an
event's place). What has no place in the schema is listed as not kept. No Qt here.
"""

from __future__ import annotations

import re
import uuid as uuid_mod
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session

from explorer.store.errors import StoreError
from explorer.store.exchange import ImportReport, RawRow, ref_column
from explorer.store.peer import _citation, plain
from explorer.store.spreadsheet import Sheet, _Names, _norm, parse_date, read_sheets

KUMU_NAMESPACE = uuid_mod.UUID("7e1f4a2b-9c3d-4e5f-8a6b-1c2d3e4f5a6b")
# Kumu element types (free text in Kumu) → the record type they become.
TYPES = {
    "person": "person", "people": "person", "leader": "person", "minister": "person",
    "organization": "organisation", "organisation": "organisation", "company": "organisation",
    "companies": "organisation",
    "agency": "organisation", "university": "organisation", "government": "organisation",
    "place": "place", "location": "place", "city": "place", "state": "place", "region": "place",
    "sector": "sector", "industry": "sector",
    "event": "event", "summit": "event", "meeting": "event", "visit": "event",
    "project": "deal", "deal": "deal", "investment": "deal", "mou": "deal", "plant": "deal",
    "initiative": "initiative", "programme": "initiative", "program": "initiative", "framework": "initiative",
    "country": "country",
}  # fmt: skip
# (from type, to type) of a connection → how it is kept: a link list, or a reference column.
LINKS = {
    ("person", "event"): ("event", "participants", "to"),
    ("event", "person"): ("event", "participants", "from"),
    ("organisation", "deal"): ("deal", "organisations", "to"),
    ("deal", "organisation"): ("deal", "organisations", "from"),
    ("organisation", "sector"): ("organisation", "sector_id", "from"),
    ("deal", "sector"): ("deal", "sector_id", "from"),
    ("initiative", "sector"): ("initiative", "sector_id", "from"),
    ("deal", "place"): ("deal", "place_id", "from"),
    ("event", "place"): ("event", "place_id", "from"),
    ("organisation", "country"): ("organisation", "country_id", "from"),
    ("person", "country"): ("person", "country_id", "from"),
    ("place", "country"): ("place", "country_id", "from"),
    ("deal", "event"): ("deal", "event_id", "from"),
    ("initiative", "event"): ("initiative", "event_id", "from"),
}


class KumuFormatError(StoreError):
    title = "Cannot read the Kumu map"


@dataclass
class KumuMap:
    paths: list[Path]
    elements: list[dict[str, Any]] = field(default_factory=list)  # label, type, description, date, row
    connections: list[dict[str, Any]] = field(default_factory=list)  # from, to, type, row
    dropped: list[str] = field(default_factory=list)

    def drop(self, what: str) -> None:
        if what not in self.dropped:
            self.dropped.append(what)


def _rows(sheet: Sheet) -> list[dict[str, Any]]:
    headers = [_norm(h) for h in sheet.headers]
    return [
        {h: (c.strip() if isinstance(c, str) else c) for h, c in zip(headers, row, strict=False) if h}
        for row in sheet.rows
    ]


def _kind_of(sheet: Sheet) -> str | None:
    headers = {_norm(h) for h in sheet.headers}
    if {"from", "to"} <= headers:  # connections have a Label and a Type too
        return "connections"
    if {"label", "type"} <= headers:
        return "elements"
    return None


def is_kumu_file(path: Path) -> bool:
    if path.suffix.lower() not in (".xlsx", ".xlsm", ".csv"):
        return False
    try:
        return any(_kind_of(s) for s in read_sheets(path))
    except (OSError, StoreError):
        return False


def read_kumu(paths: list[Path]) -> KumuMap:
    out = KumuMap(paths)
    for path in paths:
        for sheet in read_sheets(path):
            kind = _kind_of(sheet)
            if kind is None:
                out.drop(f"the sheet {sheet.name} (neither elements nor connections)")
                continue
            for n, row in enumerate(_rows(sheet), start=2):
                row["row"], row["where"] = n, sheet.name
                (out.elements if kind == "elements" else out.connections).append(row)
    if not out.elements:
        raise KumuFormatError("No Elements sheet (with Label and Type columns) was found.")
    return out


def _uid(record_type: str, label: str) -> str:
    return str(uuid_mod.uuid5(KUMU_NAMESPACE, f"{record_type}|{_norm(label)}"))


def to_raw_rows(session: Session, kumu: KumuMap, report: ImportReport) -> list[RawRow]:
    """Elements as records (matched by name to what the database holds), connections as links."""
    names = _Names(session)
    by_label: dict[str, tuple[str, str]] = {}  # label → (record type, UUID)
    values_of: dict[str, dict[str, Any]] = {}
    rows: list[RawRow] = []
    skipped: dict[str, int] = defaultdict(int)
    for element in kumu.elements:
        label = plain(element.get("label"))
        typed = _norm(str(element.get("type") or ""))
        kind = TYPES.get(typed, TYPES.get(typed.rstrip("s")))
        if not label or kind is None:
            skipped[str(element.get("type") or "no type")] += 1
            continue
        try:  # one already held (a country by name, a company) is linked to, not made again
            uid = names.uuid(kind, label)
            known = True
        except LookupError:
            uid, known = _uid(kind, label), False
        by_label[_norm(label)] = (kind, uid)
        if known or kind == "country":
            if not known:
                kumu.drop("countries the database does not hold (they need a code)")
                by_label.pop(_norm(label))
            continue
        title = "title" if kind in ("event", "deal") else "name"
        values: dict[str, Any] = {"uuid": uid, title: label[:300]}
        description = plain(element.get("description"))
        tags = plain(element.get("tags"))
        notes = "\n\n".join(p for p in (description, f"Kumu tags: {tags}" if tags else "") if p)
        if notes and kind != "place":
            values["notes"] = notes
        when = element.get("date") or element.get("start date") or element.get("start")
        if when and kind in ("event", "deal", "initiative"):
            try:
                day, precision = parse_date(when)
                values["start_date"], values["date_precision"] = day.isoformat(), precision
            except ValueError:
                kumu.drop(f"dates that cannot be read (row {element['row']}: {when!r})")
        values_of[uid] = values
        rows.append(RawRow(kind, str(element["where"]), int(element["row"]), values, from_csv=False))
    source = str(uuid_mod.uuid5(KUMU_NAMESPACE, "source|" + "|".join(p.name for p in kumu.paths)))
    where = ", ".join(p.name for p in kumu.paths)
    rows.insert(
        0,
        RawRow("source", where, 0, {"uuid": source, "title": f"Kumu map ({where})", "kind": "dataset"}, from_csv=False),
    )
    rows += [
        _citation(str(r.values["uuid"]), r.record_type, source, r.where, r.row, "Kumu map")
        for r in list(rows[1:])
        if r.record_type in ("person", "organisation", "place", "sector", "event", "deal", "initiative")
    ]
    for kind, count in skipped.items():
        kumu.drop(f"{count} element(s) of type {kind!r}")
    links: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for c in kumu.connections:
        a, b = by_label.get(_norm(str(c.get("from") or ""))), by_label.get(_norm(str(c.get("to") or "")))
        if a is None or b is None:
            kumu.drop("connections to elements that were not kept")
            continue
        rule = LINKS.get((a[0], b[0]))
        if rule is None:
            kumu.drop(f"connections from a {a[0]} to a {b[0]} (no such link in the app)")
            continue
        _owner_type, column, side = rule
        owner, other = (a, b) if side == "from" else (b, a)
        if owner[1] not in values_of:
            kumu.drop("links to records already in the database (edit them there)")
            continue
        if column.endswith("_id"):
            values_of[owner[1]][ref_column(column)] = other[1]
        elif column == "organisations":
            role = _norm(str(c.get("type") or ""))
            links[(owner[1], column)].append([other[1], role if role in ("lead", "partner", "investor") else "partner"])
        else:
            links[(owner[1], column)].append(other[1])
    for (uid, column), items in links.items():
        values_of[uid][column] = items
    if any(re.search(r"\S", str(c.get("label") or c.get("description") or "")) for c in kumu.connections):
        kumu.drop("connections' labels and descriptions")
    return rows
