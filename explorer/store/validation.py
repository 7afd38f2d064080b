"""Rules a record must meet before it is written. Pure functions; forms show the same messages."""

from __future__ import annotations

import datetime as dt
import json
import math
import unicodedata
from dataclasses import dataclass
from typing import Any

from explorer import models as m
from explorer.store.errors import FieldProblem, ValidationError

MAX_AMOUNT = 1e15  # a quadrillion in any currency is a typing slip, not a pledge
MAX_RATE = 1e6
MAX_TEXT = 200
MAX_NOTES = 20_000
MIN_DATE = dt.date(1800, 1, 1)
MAX_DATE = dt.date(2200, 12, 31)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    kind: str  # text / notes / int / float / money / rate / date / precision / currency / ref / choice
    required: bool = False
    ref: str | None = None  # record type a ref points at
    choices: tuple[str, ...] = ()
    max_length: int = MAX_TEXT


def _refs(*pairs: tuple[str, str, str]) -> list[FieldSpec]:
    return [FieldSpec(name, label, "ref", ref=target) for name, label, target in pairs]


DATED = [
    FieldSpec("start_date", "Date", "date"),
    FieldSpec("date_precision", "Precision", "precision"),
    FieldSpec("end_date", "End date", "date"),
]
MONEY = [
    FieldSpec("amount", "Amount", "money"),
    FieldSpec("currency", "Currency", "currency"),
    FieldSpec("usd_rate", "USD per unit", "rate"),
    FieldSpec("rate_date", "Rate date", "date"),
    FieldSpec("amount_usd", "Amount in USD", "money"),
]

FIELDS: dict[str, list[FieldSpec]] = {
    "country": [
        FieldSpec("code", "Code", "text", required=True, max_length=8),
        FieldSpec("name", "Name", "text", required=True, max_length=120),
    ],
    "place": [
        FieldSpec("name", "Name", "text", required=True),
        FieldSpec("kind", "Kind", "choice", choices=("state", "city", "region")),
        *_refs(("country_id", "Country", "country")),
        FieldSpec("latitude", "Latitude", "float"),
        FieldSpec("longitude", "Longitude", "float"),
    ],
    "person": [
        FieldSpec("name", "Name", "text", required=True),
        FieldSpec("native_name", "Name in own script", "text"),
        FieldSpec("role", "Role", "text"),
        *_refs(("country_id", "Country", "country")),
        FieldSpec("term_start", "Term start", "date"),
        FieldSpec("term_end", "Term end", "date"),
        FieldSpec("notes", "Notes", "notes"),
    ],
    "sector": [
        FieldSpec("name", "Name", "text", required=True, max_length=120),
        *_refs(("parent_id", "Parent sector", "sector")),
        FieldSpec("notes", "Notes", "notes"),
    ],
    "organisation": [
        FieldSpec("name", "Name", "text", required=True),
        FieldSpec("kind", "Kind", "choice", choices=("company", "government", "university", "agency")),
        *_refs(("country_id", "Country", "country"), ("sector_id", "Sector", "sector")),
        FieldSpec("notes", "Notes", "notes"),
    ],
    "event": [
        FieldSpec("title", "Title", "text", required=True, max_length=300),
        FieldSpec("kind", "Kind", "choice", choices=tuple(k.value for k in m.EventKind)),
        FieldSpec("summit_number", "Summit number", "int"),
        *DATED,
        *_refs(("place_id", "Place", "place")),
        FieldSpec("notes", "Notes", "notes"),
    ],
    "pledge": [
        FieldSpec("title", "Title", "text", required=True, max_length=300),
        *_refs(("pledger_id", "Pledged by", "country"), ("recipient_id", "Pledged to", "country")),
        *MONEY,
        *DATED,
        *_refs(("event_id", "Announced at", "event"), ("supersedes_id", "Supersedes", "pledge")),
        FieldSpec("status", "Status", "choice", choices=("announced", "active", "superseded", "fulfilled", "lapsed")),
        FieldSpec("notes", "Notes", "notes"),
    ],
    "deal": [
        FieldSpec("title", "Title", "text", required=True, max_length=300),
        FieldSpec(
            "kind", "Kind", "choice", choices=("mou", "project", "investment", "plant", "hiring", "collaboration")
        ),
        *_refs(("sector_id", "Sector", "sector"), ("place_id", "Place", "place")),
        *MONEY,
        *DATED,
        FieldSpec(
            "status",
            "Status",
            "choice",
            choices=("planned", "announced", "under_way", "operational", "completed", "cancelled"),
        ),
        *_refs(("pledge_id", "Under pledge", "pledge"), ("event_id", "Signed at", "event")),
        FieldSpec("notes", "Notes", "notes"),
    ],
    "initiative": [
        FieldSpec("name", "Name", "text", required=True),
        FieldSpec("kind", "Kind", "choice", choices=("initiative", "framework", "concept", "partnership", "programme")),
        *DATED,
        *_refs(("event_id", "Launched at", "event"), ("sector_id", "Sector", "sector")),
        FieldSpec("notes", "Notes", "notes"),
    ],
    "target": [
        FieldSpec("name", "Name", "text", required=True),
        *_refs(("initiative_id", "Initiative", "initiative")),
        FieldSpec("value", "Value", "money", required=True),
        FieldSpec("unit", "Unit", "text", required=True, max_length=40),
        FieldSpec("amount_usd", "Worth in USD", "money"),
        *DATED,
        FieldSpec("status", "Status", "choice", choices=("target", "in_progress", "achieved", "missed")),
        *_refs(("event_id", "Set at", "event")),
        FieldSpec("notes", "Notes", "notes"),
    ],
    "source": [
        FieldSpec("title", "Title", "text", required=True, max_length=300),
        FieldSpec("publisher", "Publisher", "text"),
        FieldSpec("kind", "Kind", "choice", choices=("article", "public_record", "report", "dataset")),
        FieldSpec("published", "Published", "date"),
        FieldSpec("url", "Address", "text", max_length=2000),
        FieldSpec("notes", "Notes", "notes"),
    ],
    "citation": [
        *_refs(("source_id", "Source", "source")),
        FieldSpec(
            "record_type",
            "Record type",
            "choice",
            required=True,
            choices=(
                "country",
                "place",
                "person",
                "sector",
                "organisation",
                "event",
                "pledge",
                "deal",
                "initiative",
                "target",
                "source",
            ),
        ),
        FieldSpec("record_id", "Record", "int", required=True),
        FieldSpec("section", "Section", "text", max_length=300),
        FieldSpec("note", "Note", "notes"),
    ],
}
FIELDS["story"] = [
    FieldSpec("title", "Title", "text", required=True),
    FieldSpec("notes", "Notes", "notes"),
]
FIELDS["storystep"] = [
    *_refs(("story_id", "Story", "story")),
    FieldSpec("position", "Position", "int"),
    FieldSpec("caption", "Caption", "notes"),
    FieldSpec("selection", "Selected records", "json"),
    FieldSpec("start_day", "Timeline from (day)", "float"),
    FieldSpec("end_day", "Timeline to (day)", "float"),
    FieldSpec("filters", "Filters", "json"),
]
REQUIRED_REFS = {("citation", "source_id"), ("storystep", "story_id")}

# Names users pick records by must be unique (the database enforces it too).
UNIQUE_FIELDS: dict[str, str] = {
    "country": "code",
    "sector": "name",
    "organisation": "name",
    "initiative": "name",
}


# The record types a citation may point at: the ones whose forms list their sources.
CITEABLE: tuple[str, ...] = next(f.choices for f in FIELDS["citation"] if f.name == "record_type")


def spec(record_type: str, name: str) -> FieldSpec | None:
    return next((f for f in FIELDS.get(record_type, []) if f.name == name), None)


def defaults(record_type: str) -> dict[str, Any]:
    """The values a new record gets for fields left alone (the table's column defaults), so a
    form can show them instead of a blank that saves as something else."""
    model = m.RECORD_TYPES.get(record_type)
    if model is None:
        return {}
    out: dict[str, Any] = {}
    for fs in FIELDS.get(record_type, []):
        info = model.model_fields.get(fs.name)
        default = None if info is None else info.default
        if isinstance(default, str | int | float) and not isinstance(default, bool) and default != "":
            out[fs.name] = getattr(default, "value", default)
    return out


def _bad_chars(text: str) -> bool:
    """Control characters (other than tab/newline) hide text and break exports."""
    return any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in text)


def _as_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value.strip())
    raise TypeError


def _as_float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise TypeError
    return float(value)


def clean(record_type: str, values: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Coerce and check ``values``; raise ValidationError listing every problem.

    ``partial`` (an update) checks only the fields given; required fields must then not be
    blanked.
    """
    if record_type not in FIELDS:
        raise ValidationError([FieldProblem("", f"Unknown record type {record_type!r}.")])
    problems: list[FieldProblem] = []
    out: dict[str, Any] = {}
    specs = {f.name: f for f in FIELDS[record_type]}
    for name in values:
        if name not in specs:
            problems.append(FieldProblem(name, "is not a field of this record type."))
    for name, fs in specs.items():
        if partial and name not in values:
            continue
        value = values.get(name)
        label = fs.label
        try:
            if fs.kind in ("text", "notes", "choice", "currency", "precision"):
                if value is not None and not isinstance(value, str):
                    raise TypeError
                text = (value or "").strip()
                if fs.kind != "notes" and text and _bad_chars(text):
                    problems.append(FieldProblem(label, "contains invisible control characters."))
                    continue
                if fs.kind == "notes" and _bad_chars(text):
                    problems.append(FieldProblem(label, "contains invisible control characters."))
                    continue
                limit = MAX_NOTES if fs.kind == "notes" else fs.max_length
                if len(text) > limit:
                    problems.append(FieldProblem(label, f"is too long ({len(text)} characters; at most {limit})."))
                    continue
                if fs.kind == "currency" and text and text.upper() not in m.Currency.__members__:
                    problems.append(FieldProblem(label, f"{text!r} is not a known currency (JPY, USD or INR)."))
                    continue
                if fs.kind == "precision" and text and text not in {p.value for p in m.DatePrecision}:
                    problems.append(FieldProblem(label, "must be day, month, year or approximate."))
                    continue
                if fs.kind == "choice" and text and fs.choices and text not in fs.choices:
                    problems.append(FieldProblem(label, f"must be one of: {', '.join(fs.choices)}."))
                    continue
                if fs.kind == "currency":
                    text = text.upper()
                if fs.kind == "precision":
                    out[name] = text or m.DatePrecision.DAY.value
                elif fs.kind == "choice":
                    if text:
                        out[name] = text
                    # a blank choice is left out, so the table's default applies
                else:
                    out[name] = text or None
            elif fs.kind == "json":
                text = (
                    value
                    if isinstance(value, str)
                    else json.dumps(value if value is not None else ([] if name == "selection" else {}))
                )
                parsed = json.loads(text)
                if name == "selection" and not (
                    isinstance(parsed, list)
                    and all(isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in parsed)
                ):
                    problems.append(FieldProblem(label, "must be a list of [record type, UUID] pairs."))
                    continue
                if name == "filters" and not isinstance(parsed, dict):
                    problems.append(FieldProblem(label, "must be a JSON object."))
                    continue
                if len(text) > MAX_NOTES:
                    problems.append(FieldProblem(label, "is too long."))
                    continue
                out[name] = text
            elif fs.kind == "date":
                out[name] = _as_date(value)
                if out[name] is not None and not (MIN_DATE <= out[name] <= MAX_DATE):
                    problems.append(FieldProblem(label, f"must be between {MIN_DATE.year} and {MAX_DATE.year}."))
            elif fs.kind in ("money", "rate", "float"):
                number = _as_float(value)
                if number is not None:
                    if not math.isfinite(number):
                        problems.append(FieldProblem(label, "must be a real number."))
                        continue
                    if fs.kind in ("money", "rate") and number < 0:
                        problems.append(FieldProblem(label, "cannot be negative."))
                        continue
                    bound = MAX_RATE if fs.kind == "rate" else MAX_AMOUNT
                    if fs.kind == "float" and name in ("latitude", "longitude"):
                        bound = 90.0 if name == "latitude" else 180.0
                        if abs(number) > bound:
                            problems.append(FieldProblem(label, f"must be between -{bound:g} and {bound:g}."))
                            continue
                    elif abs(number) > bound:
                        problems.append(FieldProblem(label, f"is implausibly large (more than {bound:g})."))
                        continue
                    if fs.kind == "rate" and number == 0:
                        problems.append(FieldProblem(label, "must be more than zero."))
                        continue
                out[name] = number
            elif fs.kind in ("int", "ref"):
                if value is None or value == "":
                    out[name] = None
                else:
                    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                        raise TypeError
                    number = int(value)
                    if not (0 <= number < 2**62):
                        problems.append(FieldProblem(label, "is out of range."))
                        continue
                    out[name] = number
            if fs.required and out.get(name) in (None, ""):
                problems.append(FieldProblem(label, "is required."))
            if (record_type, name) in REQUIRED_REFS and out.get(name) is None:
                problems.append(FieldProblem(label, "is required."))
        except (TypeError, ValueError, OverflowError):
            problems.append(FieldProblem(label, _type_message(fs.kind)))
    problems.extend(_cross_field(record_type, out, partial))
    if problems:
        raise ValidationError(problems)
    return out


def _type_message(kind: str) -> str:
    return {
        "date": "must be a date like 2025-08-29.",
        "money": "must be a number.",
        "rate": "must be a number.",
        "float": "must be a number.",
        "int": "must be a whole number.",
        "ref": "must be a record picked from the list.",
        "json": "must be valid JSON.",
    }.get(kind, "must be text.")


def _cross_field(record_type: str, v: dict[str, Any], partial: bool) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    start, end = v.get("start_date"), v.get("end_date")
    if start is not None and end is not None and end < start:
        problems.append(FieldProblem("End date", "cannot be before the date."))
    if end is not None and start is None and "start_date" in v:
        problems.append(FieldProblem("Date", "is required when there is an end date."))
    if v.get("term_start") and v.get("term_end") and v["term_end"] < v["term_start"]:
        problems.append(FieldProblem("Term end", "cannot be before the term start."))
    if "amount" in v or "currency" in v:
        amount, currency, rate = v.get("amount"), v.get("currency"), v.get("usd_rate")
        if amount is not None and not currency and not partial:
            problems.append(FieldProblem("Currency", "is required with an amount."))
        if amount is not None and currency and currency != "USD" and rate is None and not partial:
            problems.append(FieldProblem("USD per unit", f"is required for an amount in {currency}."))
        if currency == "USD" and rate is not None and rate != 1.0:
            problems.append(FieldProblem("USD per unit", "must be 1 for an amount in USD."))
    return problems
