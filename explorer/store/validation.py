"""Rules a record must meet before it is written. Pure functions; forms show the same messages."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import unicodedata
from collections.abc import Callable
from typing import Any

from explorer import models as m
from explorer import schema
from explorer.schema import FieldSpec, PerKind
from explorer.store.errors import FieldProblem, ValidationError

MAX_AMOUNT = 1e15  # a quadrillion in any currency is a typing slip, not a pledge
MAX_RATE = 1e6
MAX_NOTES = 20_000
MIN_DATE = dt.date(1800, 1, 1)
MAX_DATE = dt.date(2200, 12, 31)


# The one rule book: every type's fields live in its descriptor (explorer.schema).
FIELDS: PerKind[list[FieldSpec]] = PerKind(lambda k: list(k.fields))
DATED = list(schema.DATED)
MONEY = list(schema.MONEY)


def unique_field(record_type: str) -> str | None:
    """The name users pick records of this type by, which must be unique (or None)."""
    found = schema.KINDS.get(record_type)
    return None if found is None else found.unique


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


# Numbers as people and files write them, nothing Python alone would also take ("1_000", "٣",
# "infinity", " 1 000 " are refused rather than read as something else).
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _as_float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, str):
        text = value.strip()
        if not _DECIMAL.fullmatch(text):
            raise ValueError(value)
        number = float(text)
        if number == 0 and re.search(r"[1-9]", text.lower().split("e")[0]):
            raise _RuleError("is too small to store (it would become 0).")
        return number
    return float(value)


class _RuleError(Exception):
    """A field's value breaks its rule; the message completes the sentence begun by its label."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_OMIT = object()  # a blank choice is left out, so the table's default applies


def _check_text(fs: FieldSpec, value: Any) -> Any:
    if value is not None and not isinstance(value, str):
        raise TypeError
    text = (value or "").strip()
    if (fs.kind == "notes" or text) and _bad_chars(text):
        raise _RuleError("contains invisible control characters.")
    limit = MAX_NOTES if fs.kind == "notes" else fs.max_length
    if len(text) > limit:
        raise _RuleError(f"is too long ({len(text)} characters; at most {limit}).")
    if fs.kind == "currency":
        if text and text.upper() not in m.Currency.__members__:
            raise _RuleError(f"{text!r} is not a known currency (JPY, USD or INR).")
        return text.upper() or None
    if fs.kind == "precision":
        if text and text not in {p.value for p in m.DatePrecision}:
            raise _RuleError("must be day, month, year or approximate.")
        return text or m.DatePrecision.DAY.value
    if fs.kind == "choice":
        if text and fs.choices and text not in fs.choices:
            raise _RuleError(f"must be one of: {', '.join(fs.choices)}.")
        return text or _OMIT
    return text or None


def _check_json(fs: FieldSpec, value: Any) -> Any:
    empty: Any = [] if fs.name == "selection" else {}
    try:
        text = value if isinstance(value, str) else json.dumps(value if value is not None else empty)
        parsed = json.loads(text)
    except RecursionError:
        raise _RuleError("is nested too deeply.") from None
    if fs.name == "selection" and not (
        isinstance(parsed, list)
        and all(isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in parsed)
    ):
        raise _RuleError("must be a list of [record type, UUID] pairs.")
    if fs.name == "filters" and not isinstance(parsed, dict):
        raise _RuleError("must be a JSON object.")
    if len(text) > MAX_NOTES:
        raise _RuleError("is too long.")
    return text


def _check_date(fs: FieldSpec, value: Any) -> Any:
    day = _as_date(value)
    if day is not None and not (MIN_DATE <= day <= MAX_DATE):
        raise _RuleError(f"must be between {MIN_DATE.year} and {MAX_DATE.year}.")
    return day


# Plausible ranges of plain numbers, by field name (degrees of a position on the globe).
NUMBER_BOUNDS = {"latitude": 90.0, "longitude": 180.0}


def _check_number(fs: FieldSpec, value: Any) -> Any:
    number = _as_float(value)
    if number is None:
        return None
    if not math.isfinite(number):
        raise _RuleError("must be a real number.")
    if fs.kind in ("money", "rate") and number < 0:
        raise _RuleError("cannot be negative.")
    if fs.kind == "float" and fs.name in NUMBER_BOUNDS:
        bound = NUMBER_BOUNDS[fs.name]
        if abs(number) > bound:
            raise _RuleError(f"must be between -{bound:g} and {bound:g}.")
    else:
        bound = MAX_RATE if fs.kind == "rate" else MAX_AMOUNT
        if abs(number) > bound:
            raise _RuleError(f"is implausibly large (more than {bound:g}).")
    if fs.kind == "rate" and number == 0:
        raise _RuleError("must be more than zero.")
    return number


def _check_integer(fs: FieldSpec, value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise TypeError
    if isinstance(value, str) and not _INTEGER.fullmatch(value.strip()):
        raise ValueError(value)
    number = int(value)
    if not (0 <= number < 2**62):
        raise _RuleError("is out of range.")
    return number


# Each kind of field and the check that coerces its value (raising _RuleError, or TypeError /
# ValueError for a value of the wrong type).
CHECKS: dict[str, Callable[[FieldSpec, Any], Any]] = {
    **dict.fromkeys(("text", "notes", "choice", "currency", "precision"), _check_text),
    "json": _check_json,
    "date": _check_date,
    **dict.fromkeys(("money", "rate", "float"), _check_number),
    **dict.fromkeys(("int", "ref"), _check_integer),
}


def _not_null(record_type: str) -> frozenset[str]:
    """Fields whose column cannot hold NULL (a story step's position): the rule the database
    would otherwise enforce with an error no form or import could explain."""
    kind = schema.KINDS.get(record_type)
    if kind is None:
        return frozenset()
    columns = kind.model.__table__.c
    return frozenset(f.name for f in kind.fields if f.name in columns and not columns[f.name].nullable)


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
            problems.append(FieldProblem(name, "is not a field of this record type.", name))
    for name, fs in specs.items():
        if partial and name not in values:
            continue
        try:
            checked = CHECKS[fs.kind](fs, values.get(name))
        except _RuleError as refused:
            problems.append(FieldProblem(fs.label, refused.message, name))
            continue
        except (TypeError, ValueError, OverflowError):
            problems.append(FieldProblem(fs.label, _type_message(fs.kind), name))
            continue
        if checked is None and not fs.required and name in _not_null(record_type):
            # A column that cannot be empty: left blank in a new record it takes its default;
            # an edit cannot empty it.
            if partial:
                problems.append(FieldProblem(fs.label, "cannot be left empty.", name))
            continue
        if checked is not _OMIT:
            out[name] = checked
        if fs.required and out.get(name) in (None, ""):
            problems.append(FieldProblem(fs.label, "is required.", name))
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


def _problem(record_type: str, name: str, message: str) -> FieldProblem:
    found = spec(record_type, name)
    return FieldProblem(found.label if found else name, message, name)


def _cross_field(record_type: str, v: dict[str, Any], partial: bool) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    start, end = v.get("start_date"), v.get("end_date")
    if start is not None and end is not None and end < start:
        problems.append(_problem(record_type, "end_date", "cannot be before the date."))
    if end is not None and start is None and "start_date" in v:
        problems.append(_problem(record_type, "start_date", "is required when there is an end date."))
    if v.get("term_start") and v.get("term_end") and v["term_end"] < v["term_start"]:
        problems.append(_problem(record_type, "term_end", "cannot be before the term start."))
    if "amount" in v or "currency" in v:
        amount, currency, rate = v.get("amount"), v.get("currency"), v.get("usd_rate")
        if amount is not None and not currency and not partial:
            problems.append(_problem(record_type, "currency", "is required with an amount."))
        if amount is not None and currency and currency != "USD" and rate is None and not partial:
            problems.append(_problem(record_type, "usd_rate", f"is required for an amount in {currency}."))
        if currency == "USD" and rate is not None and rate != 1.0:
            problems.append(_problem(record_type, "usd_rate", "must be 1 for an amount in USD."))
    return problems
