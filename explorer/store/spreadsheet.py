"""Spreadsheets as analysts keep them: any file name, title-case headers, only some columns,
names instead of UUIDs, dates and amounts the way Excel and LibreOffice write them.

A sheet is read (``read_sheets``), its columns are matched to a record type's fields
(``auto_mapping``, changeable by the person importing), and each row becomes the plain values of
the exchange format (``to_raw_rows``): references by UUID, dates in ISO form with their
precision, numbers as numbers. From there the exchange module's checks and one-transaction
apply run unchanged, so a spreadsheet is held to exactly the rules of a form. A row without a
UUID is matched to a record by its natural key (a place's name, an event's title and date), so
importing the same sheet again updates those records instead of duplicating them. No Qt here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import uuid as uuid_mod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlmodel import Session

from explorer import models as m
from explorer import schema
from explorer.store.errors import StoreError
from explorer.store.exchange import (
    ImportCancelledError,
    ImportReport,
    Problem,
    Progress,
    RawRow,
    file_problem,
    ref_column,
    uuids_in_database,
)

DateOrder = Literal["dmy", "mdy", "ymd"]
SPREADSHEET_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm")
MAX_ROWS = 1_000_000
SENT_ROWS = 5_000  # rows that go with a sheet sent to another process; past that it reads the file
# Excel counts days from 1899-12-30 (its 1900 leap-year bug included).
EXCEL_EPOCH = dt.date(1899, 12, 30)


@dataclass
class Sheet:
    """One table: a CSV file or one worksheet of a workbook."""

    name: str  # the file name, or "file.xlsx ▸ Sheet1"
    headers: list[str]
    rows: list[list[Any]]  # cells as read: text, numbers, dates (from a workbook)
    source: Path | None = None  # the file, and which of its tables, to read it again from
    position: int = 0
    stamp: tuple[int, int] | None = None  # the file's size and modification time when read
    # How many rows the table has; ``rows`` may hold only the first of them (read_sheets' keep).
    row_count: int = -1

    def __post_init__(self) -> None:
        if self.row_count < 0:
            self.row_count = len(self.rows)

    @property
    def complete(self) -> bool:
        return self.rows is not None and len(self.rows) == self.row_count

    def all_rows(self) -> list[list[Any]]:
        """Every row, read again from the file when only the first were kept."""
        if not self.complete:
            self._unchanged()
            assert self.source is not None
            self.rows = read_sheets(self.source)[self.position].rows
            self.row_count = len(self.rows)
        return self.rows

    def __getstate__(self) -> dict[str, Any]:
        # Sent to another process (a large import) as where to read it: a hundred thousand rows
        # pickled would hold the sender for longer than the reading takes. A few thousand go
        # along (the first rows a dialog keeps, or a small sheet).
        state = dict(self.__dict__)
        if self.source is not None and self.rows is not None and len(self.rows) > SENT_ROWS:
            state["rows"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        # In the process that imports it: what was checked and shown must be what is written.
        self.__dict__.update(state)
        self._unchanged()
        if self.rows is None:
            self.all_rows()

    def _unchanged(self) -> None:
        if self.source is not None and _stamp(self.source) != self.stamp:
            raise SpreadsheetError(f"{self.source.name} was changed since it was read: check it again.")


class SpreadsheetError(StoreError):
    title = "Cannot read the spreadsheet"


# --- reading -------------------------------------------------------------------------------------


def read_sheets(path: Path, keep: int | None = None) -> list[Sheet]:
    """Every non-empty table in the file; the first row holds the headers. With ``keep``, each
    sheet holds only its first ``keep`` rows (all are still read and counted): the import dialog
    keeps a large sheet's rows out of the app's memory, where a full pass of Python's cycle
    collector over them would freeze the window; the worker that imports it reads it again."""
    refused = file_problem(path)
    if refused is not None:
        raise SpreadsheetError(f"{path.name} {refused}")
    stamp = _stamp(path)
    suffix = path.suffix.lower()
    sheets = _read_workbook(path, keep) if suffix in (".xlsx", ".xlsm") else [_read_delimited(path, keep)]
    for position, sheet in enumerate(sheets):
        sheet.source, sheet.position, sheet.stamp = path, position, stamp
    return sheets


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


def _read_delimited(path: Path, keep: int | None = None) -> Sheet:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpreadsheetError(
            f"{path.name} is not UTF-8 text. In Excel use Save As ▸ “CSV UTF-8 (comma delimited)”; "
            "in LibreOffice tick “Edit filter settings” and choose Unicode (UTF-8)."
        ) from None
    del data
    sample = text[:20_000]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel_tab if path.suffix.lower() == ".tsv" else csv.excel
    rows = _kept(
        (row for row in csv.reader(io.StringIO(text, newline=""), dialect) if any(c.strip() for c in row)),
        keep,
        f"{path.name} has more than {MAX_ROWS:,} rows.",
    )
    if not rows.kept:
        raise SpreadsheetError(f"{path.name} is empty.")
    return Sheet(path.name, [h.strip() for h in rows.kept[0]], rows.kept[1:], row_count=rows.count - 1)


@dataclass
class _Kept:
    kept: list[list[Any]]
    count: int


def _kept(rows: Iterable[Sequence[Any]], keep: int | None, too_many: str) -> _Kept:
    """The first ``keep`` data rows (after the header row), and how many rows there were."""
    limit = None if keep is None else keep + 1
    kept: list[list[Any]] = []
    count = 0
    for row in rows:
        count += 1
        if count > MAX_ROWS + 1:
            raise SpreadsheetError(too_many)
        if limit is None or count <= limit:
            kept.append(list(row))
    return _Kept(kept, count)


def _read_workbook(path: Path, keep: int | None = None) -> list[Sheet]:
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - a dependency of the package
        raise SpreadsheetError("Reading .xlsx files needs the openpyxl package.") from None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise SpreadsheetError(f"{path.name} cannot be read as an Excel workbook ({exc}).") from None
    sheets: list[Sheet] = []
    try:
        for ws in book.worksheets:
            rows = _kept(
                (r for r in ws.iter_rows(values_only=True) if any(_text(c) for c in r)),
                keep,
                f"{path.name} ▸ {ws.title} has more than {MAX_ROWS:,} rows.",
            )
            if rows.kept:
                headers = [_text(h) for h in rows.kept[0]]
                sheets.append(Sheet(f"{path.name} ▸ {ws.title}", headers, rows.kept[1:], row_count=rows.count - 1))
    finally:
        book.close()
    if not sheets:
        raise SpreadsheetError(f"{path.name} holds no rows.")
    return sheets


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def is_spreadsheet(path: Path) -> bool:
    """A workbook, or a CSV file as people keep them (not the exchange format, whose files carry
    a ``uuid`` column); folders and .json files are exchange files."""
    suffix = path.suffix.lower()
    if file_problem(path) is not None:
        return False  # the exchange import says what is wrong with it
    if suffix in (".xlsx", ".xlsm", ".tsv"):
        return True
    if suffix not in (".csv", ".txt") or not path.is_file():
        return False
    with path.open("rb") as handle:
        first = handle.readline(100_000).decode("utf-8-sig", errors="replace")
    return "uuid" not in {_norm(h) for h in re.split(r"[,;\t]", first)}


def plans_for(
    paths: Iterable[Path], record_type: str | None = None, date_order: DateOrder = "dmy"
) -> list[SheetImport]:
    """Every sheet of the files with its guessed (or given) type and its columns matched."""
    plans: list[SheetImport] = []
    for path in paths:
        for sheet in read_sheets(path):
            rt = record_type or guess_type(sheet)
            if rt is None:
                raise SpreadsheetError(f"{sheet.name}: which kind of record does it hold? Give it with --type.")
            plans.append(SheetImport(sheet, rt, auto_mapping(rt, sheet.headers), date_order))
    return plans


# --- matching columns to fields --------------------------------------------------------------------


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().strip()
    return re.sub(r"[\s_\-./()*]+", " ", text).strip()


def _aliases(kind: schema.RecordKind) -> dict[str, str]:
    """Header spellings → the exchange column they fill."""
    out: dict[str, str] = {"uuid": "uuid", "id": "id"}
    for fs in kind.fields:
        column = ref_column(fs.name) if fs.kind == "ref" else fs.name
        for alias in (fs.name, fs.label, column):
            out.setdefault(_norm(alias), column)
        if fs.kind == "ref":
            out.setdefault(_norm(fs.name.removesuffix("_id")), column)  # "Place", "Country"
    for link in kind.links:
        for alias in (link.name, link.label, link.column):
            out.setdefault(_norm(alias), link.column)
    if kind.title in kind.field_names:
        for alias in ("name", "title", "headline"):
            out.setdefault(alias, kind.title)
    if kind.dated:
        for alias in ("date", "start", "start date", "from", "when", "year"):
            out.setdefault(alias, "start_date")
        for alias in ("end", "end date", "to", "until"):
            out.setdefault(alias, "end_date")
    if kind.field("notes") is not None:
        for alias in ("description", "text", "note", "comments", "remarks", "summary", "details"):
            out.setdefault(alias, "notes")
    if kind.field("place_id") is not None:
        for alias in ("where", "location", "venue", "city", "state"):
            out.setdefault(alias, "place_uuid")
    return out


def auto_mapping(record_type: str, headers: list[str]) -> dict[str, str | None]:
    """Each header → the column it fills (None: not imported)."""
    aliases = _aliases(schema.kind(record_type))
    used: set[str] = set()
    out: dict[str, str | None] = {}
    for header in headers:
        column = aliases.get(_norm(header))
        if column is None and _norm(header).endswith(" uuid"):
            column = aliases.get(_norm(header).removesuffix(" uuid"))
        out[header] = column if column and column not in used else None
        if column:
            used.add(column)
    return out


def guess_type(sheet: Sheet) -> str | None:
    """The record type a sheet holds: named by its file or sheet name ("Events", "deals.csv"),
    else the type whose fields its headers match best."""
    words = _norm(re.sub(r"\.(csv|tsv|txt|xlsx|xlsm)\b", " ", sheet.name)).split()
    for kind in schema.kinds():
        names = {kind.name, _norm(kind.label), _norm(kind.label) + "s", kind.name + "s"}
        if kind.name.endswith("y"):
            names.add(kind.name[:-1] + "ies")
        # the words of its timeline lane and legend: "Summits & visits", "Deals & MoUs"
        for words_of in (kind.lane or "", kind.legend):
            names |= {w for w in re.split(r"[^a-z]+", words_of.lower()) if len(w) > 3}
        if kind.lane and len([k for k in schema.kinds() if k.lane == kind.lane]) > 1:
            names -= set(re.split(r"[^a-z]+", kind.lane.lower()))  # a shared lane names no one type
        if names & set(words):
            return kind.name
    best, score = None, 0
    for kind in schema.kinds():
        mapped = sum(1 for c in auto_mapping(kind.name, sheet.headers).values() if c not in (None, "uuid", "id"))
        if mapped > score:
            best, score = kind.name, mapped
    return best


# --- values as people type them ------------------------------------------------------------------

_MONTHS = {
    name: n
    for n in range(1, 13)
    for name in (dt.date(2000, n, 1).strftime("%B").lower(), dt.date(2000, n, 1).strftime("%b").lower())
}
_MONTHS["sept"] = 9
_APPROX = re.compile(r"^(c\.?|ca\.?|circa|about|around|approx\.?|approximately|~)\s*", re.IGNORECASE)


def parse_date(value: Any, order: DateOrder = "dmy") -> tuple[dt.date, str]:
    """A date cell as (date, precision): day, month, year or approximate. Raises ValueError."""
    if isinstance(value, dt.datetime):
        return value.date(), "day"
    if isinstance(value, dt.date):
        return value, "day"
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1800 <= value <= 2200 and float(value).is_integer():
            return dt.date(int(value), 1, 1), "year"  # a year typed into a number cell
        if not 1 <= value < 2_958_466:
            raise ValueError
        return EXCEL_EPOCH + dt.timedelta(days=int(value)), "day"  # an Excel serial date
    text = str(value).strip()
    approx = _APPROX.match(text)
    if approx:
        day, _precision = parse_date(text[approx.end() :], order)
        return day, "approximate"
    if re.fullmatch(r"\d{1,4}", text):
        return dt.date(int(text), 1, 1), "year"
    if re.fullmatch(r"\d{5}(\.\d+)?", text):
        return parse_date(float(text), order)
    low = text.lower().replace(",", " ")
    parts = [p for p in re.split(r"[\s/.\-]+", low) if p]
    months = [p for p in parts if p.rstrip(".") in _MONTHS]
    if months:
        month = _MONTHS[months[0].rstrip(".")]
        rest = [int(p.rstrip("stndrh")) for p in parts if p not in months and re.fullmatch(r"\d+(st|nd|rd|th)?", p)]
        years = [n for n in rest if n > 31]
        if len(rest) == 1 and years:
            return dt.date(years[0], month, 1), "month"  # "Aug 2025", "August 2025"
        if len(rest) == 2 and years:
            day_ = next(n for n in rest if n not in years or rest.count(n) > 1)
            return dt.date(years[0], month, day_), "day"  # "29 Aug 2025", "Aug 29, 2025"
        raise ValueError
    numbers = [int(p) for p in parts if p.isdigit()]
    if len(numbers) != len(parts):
        raise ValueError
    if len(numbers) == 2:  # "2025-08", "08/2025"
        year, month = (numbers[0], numbers[1]) if numbers[0] > 31 else (numbers[1], numbers[0])
        return dt.date(year, month, 1), "month"
    if len(numbers) == 3:
        if numbers[0] > 31 or len(parts[0]) == 4:
            year, month, day_ = numbers
        elif order == "mdy":
            month, day_, year = numbers
        else:
            day_, month, year = numbers
        if year < 100:
            year += 2000 if year < 70 else 1900
        return dt.date(year, month, day_), "day"
    raise ValueError


_CURRENCY_MARKS = {"us$": "USD", "$": "USD", "usd": "USD", "¥": "JPY", "jpy": "JPY", "yen": "JPY", "₹": "INR"}
_CURRENCY_MARKS |= {"inr": "INR", "rs": "INR", "rs.": "INR"}
_NUMBER = re.compile(r"^[+-]?(\d{1,3}([,\u00a0\u202f' ]\d{3})+|\d+)(\.\d+)?$")


def parse_amount(value: Any) -> tuple[float, str | None]:
    """An amount cell as (number, currency named by its symbol or code, if any). Raises ValueError.

    Accepts thousands separators ("1,234,567", "1 234 567") and currency marks ("US$ 1.5",
    "¥10,000", "₹ 500"); refuses what could be read two ways ("1.234,5")."""
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | float):
        return float(value), None
    text = str(value).strip().lower()
    currency = None
    for mark in sorted(_CURRENCY_MARKS, key=len, reverse=True):
        if text.startswith(mark) or text.endswith(mark):
            currency = _CURRENCY_MARKS[mark]
            text = (text[len(mark) :] if text.startswith(mark) else text[: -len(mark)]).strip()
            break
    if not _NUMBER.match(text):
        raise ValueError
    return float(re.sub(r"[,\u00a0\u202f' ]", "", text)), currency


# --- rows ----------------------------------------------------------------------------------------


@dataclass
class SheetImport:
    """What to read from a sheet: its record type, which header fills which column, date order."""

    sheet: Sheet
    record_type: str
    mapping: dict[str, str | None]
    date_order: DateOrder = "dmy"
    # exchange column → the header it came from, so problems name the sheet's own columns
    headers_of: dict[str, str] = field(default_factory=dict)


class _Names:
    """Records named by their title (or a country by its code), from the database and the sheet."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.cache: dict[str, dict[str, list[str]]] = {}

    def of(self, record_type: str) -> dict[str, list[str]]:
        if record_type not in self.cache:
            kind = schema.kind(record_type)
            table = kind.model.__table__
            cols = [table.c.uuid, table.c[kind.title]]
            if kind.unique and kind.unique != kind.title:
                cols.append(table.c[kind.unique])
            names: dict[str, list[str]] = {}
            for row in self.session.connection().execute(sa.select(*cols)):
                for name in row[1:]:
                    if name:
                        names.setdefault(_norm(str(name)), []).append(str(row[0]))
            self.cache[record_type] = names
        return self.cache[record_type]

    def add(self, record_type: str, name: str, uid: str) -> None:
        found = self.of(record_type).setdefault(_norm(name), [])
        if uid not in found:
            found.append(uid)

    def uuid(self, record_type: str, text: str) -> str:
        """The UUID of the one record so named (or given by UUID). Raises LookupError with why."""
        as_uuid = _as_uuid(text)
        if as_uuid is not None:
            return as_uuid
        found = self.of(record_type).get(_norm(text), [])
        if len(found) == 1:
            return found[0]
        what = schema.label(record_type).lower()
        if not found:
            raise LookupError(f"no {what} is named {text!r} (in the database or this sheet).")
        raise LookupError(f"{len(found)} {what} records are named {text!r}; give its UUID instead.")


def _as_uuid(text: str) -> str | None:
    try:
        return str(uuid_mod.UUID(text.strip()))
    except (ValueError, AttributeError):
        return None


def _natural_key(kind: schema.RecordKind, values: dict[str, Any]) -> tuple[Any, ...] | None:
    key = []
    for name in kind.natural_key:
        column = ref_column(name) if (f := kind.field(name)) is not None and f.kind == "ref" else name
        value = values.get(column)
        if value in (None, ""):
            return None
        key.append(_norm(str(value)))
    return tuple(key)


def _existing_by_key(session: Session, kind: schema.RecordKind) -> dict[tuple[Any, ...], str]:
    """Natural key → UUID of the records already in the database."""
    table = kind.model.__table__
    cols = [table.c.uuid]
    joins: list[tuple[int, str]] = []
    for i, name in enumerate(kind.natural_key):
        f = kind.field(name)
        if f is not None and f.kind == "ref" and f.ref is not None:
            joins.append((i, f.ref))
        cols.append(table.c[name])
    uuids_of: dict[str, dict[int, str]] = {}
    for _i, target in joins:
        t = schema.kind(target).model.__table__
        uuids_of[target] = {int(i): str(u) for i, u in session.connection().execute(sa.select(t.c.id, t.c.uuid))}
    out: dict[tuple[Any, ...], str] = {}
    ref_at = dict(joins)
    for row in session.connection().execute(sa.select(*cols)):
        parts = []
        for i, value in enumerate(row[1:]):
            if value is None:
                break
            if i in ref_at:
                value = uuids_of[ref_at[i]].get(int(value))
            elif isinstance(value, dt.date):
                value = value.isoformat()
            parts.append(_norm(str(value)))
        else:
            out.setdefault(tuple(parts), str(row[0]))
    return out


def to_raw_rows(
    session: Session,
    plan: SheetImport,
    report: ImportReport,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> list[RawRow]:
    """The sheet's rows as exchange rows (columns of the exchange format), problems into ``report``."""
    kind = schema.kind(plan.record_type)
    sheet, mapping = plan.sheet, plan.mapping
    plan.headers_of = {column: header for header, column in mapping.items() if column}
    names = _Names(session)
    existing = _existing_by_key(session, kind)
    in_sheet: dict[tuple[Any, ...], tuple[str, int]] = {}
    specs = {(ref_column(f.name) if f.kind == "ref" else f.name): f for f in kind.fields}
    links = {link.column: link for link in kind.links}
    index = {header: i for i, header in enumerate(sheet.headers)}
    out: list[RawRow] = []
    rows = sheet.all_rows()
    for n, cells in enumerate(rows, start=2):  # row 1 holds the headers
        if n % 1000 == 0:
            if cancelled is not None and cancelled():
                raise ImportCancelledError("The import was cancelled; nothing was written.")
            if progress is not None:
                progress("Reading", n - 1, len(rows))
        problems: list[Problem] = []

        def bad(column: str, message: str, n: int = n, problems: list[Problem] = problems) -> None:
            problems.append(Problem(sheet.name, n, plan.headers_of.get(column, column), message))

        values: dict[str, Any] = {}
        for header, column in mapping.items():
            if column is None or header not in index:
                continue
            i = index[header]
            cell = cells[i] if i < len(cells) else None
            if cell is None or (isinstance(cell, str) and not cell.strip()):
                continue  # blank: a new record gets the default, an existing one keeps its value
            if isinstance(cell, str):
                cell = cell.strip()
            fs = specs.get(column)
            try:
                if column in ("uuid", "id"):
                    values[column] = str(cell)
                elif column in links:
                    values[column] = _link_value(names, links[column], cell)
                elif fs is not None and fs.kind == "ref" and fs.ref is not None:
                    values[column] = names.uuid(fs.ref, str(cell))
                elif fs is not None and fs.kind == "date":
                    day, precision = parse_date(cell, plan.date_order)
                    values[column] = day.isoformat()
                    if column == "start_date" and "date_precision" not in plan.headers_of:
                        values["date_precision"] = precision
                elif fs is not None and fs.kind in ("money", "rate", "float"):
                    number, currency = parse_amount(cell)
                    values[column] = number
                    if currency and "currency" in specs:  # a currency cell, if filled, still decides
                        values.setdefault("currency", currency)
                elif fs is not None and fs.kind == "int":
                    number, _ = parse_amount(cell)
                    if not number.is_integer():
                        raise ValueError
                    values[column] = int(number)
                elif fs is not None and fs.kind in ("choice", "precision", "currency"):
                    values[column] = _choice(fs, str(cell))
                else:
                    values[column] = cell if isinstance(cell, str) else _cell_text(cell)
            except LookupError as exc:
                bad(column, str(exc.args[0]))
            except ValueError:
                bad(column, _cell_message(fs, cell, plan.date_order))
        if "usd_rate" in specs and values.get("currency") == "USD" and "usd_rate" not in values:
            values["usd_rate"] = 1.0
        if "amount_usd" in specs and "amount_usd" not in values:
            amount, rate = values.get("amount"), values.get("usd_rate")
            if isinstance(amount, float) and isinstance(rate, float):
                values["amount_usd"] = amount * rate  # as a form works it out unless the source states it
        uid = _as_uuid(str(values.get("uuid", "")))
        key = _natural_key(kind, values)
        if uid is None and key is not None:
            if key in in_sheet:
                _where, row = in_sheet[key]
                bad(kind.natural_key[0], f"is the same record as row {row} ({', '.join(map(str, key))}).")
            uid = existing.get(key)
            if uid is not None:
                report.matched.append((plan.record_type, str(values.get(kind.title) or ""), sheet.name, n))
        if key is not None:
            in_sheet.setdefault(key, (sheet.name, n))
        values["uuid"] = uid or str(uuid_mod.uuid4())
        values.pop("id", None)
        if kind.title in values:
            names.add(plan.record_type, str(values[kind.title]), values["uuid"])
        for p in problems:
            report.add(p)
        out.append(RawRow(plan.record_type, sheet.name, n, values, from_csv=False))
    held = uuids_in_database(session, plan.record_type, [r.values["uuid"] for r in out])
    for raw in out:
        raw.partial = raw.values["uuid"] in held  # a record already held: only its given cells change
    return out


def _choice(fs: schema.FieldSpec, text: str) -> str:
    """A choice as typed ("Under way", "MoU") → its stored value ("under_way", "mou")."""
    choices = fs.choices
    if fs.kind == "precision":
        choices = tuple(p.value for p in m.DatePrecision)
    elif fs.kind == "currency":
        return text.upper()
    by_norm = {_norm(c): c for c in choices}
    return by_norm.get(_norm(text), text)


def _link_value(names: _Names, link: schema.LinkSpec, cell: Any) -> list[Any]:
    """ "Toyota; Suzuki (lead)" → UUIDs (with roles: "Name (role)" or "Name: role")."""
    items = [p.strip() for p in re.split(r"[;\n]", str(cell)) if p.strip()]
    out: list[Any] = []
    for item in items:
        if not link.roles:
            out.append(names.uuid(link.target, item))
            continue
        role = link.default_role
        found = re.fullmatch(r"(.+?)\s*(?:\((\w+)\)|:\s*(\w+))", item)
        if found and (found.group(2) or found.group(3) or "").lower() in link.roles:
            item, role = found.group(1), (found.group(2) or found.group(3)).lower()
        out.append([names.uuid(link.target, item), role])
    return out


def _cell_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _cell_message(fs: schema.FieldSpec | None, cell: Any, order: DateOrder) -> str:
    if fs is not None and fs.kind == "date":
        example = {"dmy": "29/08/2025", "mdy": "08/29/2025", "ymd": "2025-08-29"}[order]
        return f"{cell!r} is not a date (like {example}, Aug 2025, 2025 or c. 2025)."
    if fs is not None and fs.kind == "int":
        return f"{cell!r} is not a whole number."
    return f"{cell!r} is not a number (like 1,234.5 or US$ 2.5)."


def rename_problems(report: ImportReport, plans: Iterable[SheetImport]) -> None:
    """Problems found by the exchange checks name exchange columns; say the sheet's headers."""
    by_sheet = {p.sheet.name: p for p in plans}
    for i, problem in enumerate(report.problems):
        plan = by_sheet.get(problem.where)
        if plan is None:
            continue
        if problem.column in plan.headers_of:
            report.problems[i] = replace(problem, column=plan.headers_of[problem.column])
        else:  # a field the sheet has no column for: its label
            kind = schema.kind(plan.record_type)
            fs = next((f for f in kind.fields if problem.column in (f.name, ref_column(f.name))), None)
            if fs is not None:
                report.problems[i] = replace(problem, column=fs.label)


def to_preview(plan: SheetImport, limit: int = 20) -> tuple[list[str], list[list[str]]]:
    """The first rows as they will be stored, for a person to look over before importing:
    (column labels, rows of text). Names of linked records are shown as typed (they are looked
    up when the rows are checked); a cell that cannot be read says so."""
    kind = schema.kind(plan.record_type)
    specs = {(ref_column(f.name) if f.kind == "ref" else f.name): f for f in kind.fields}
    links = {link.column: link for link in kind.links}
    index = {header: i for i, header in enumerate(plan.sheet.headers)}
    mapped = [(h, c) for h, c in plan.mapping.items() if c and h in index]
    labels = []
    for _header, column in mapped:
        fs = specs.get(column)
        labels.append(fs.label if fs else links[column].label if column in links else column.upper())
    rows: list[list[str]] = []
    for cells in plan.sheet.rows[:limit]:
        out = []
        for header, column in mapped:
            i = index[header]
            cell = cells[i] if i < len(cells) else None
            out.append(_preview_cell(specs.get(column), cell, plan.date_order))
        rows.append(out)
    return labels, rows


def _preview_cell(fs: schema.FieldSpec | None, cell: Any, order: DateOrder) -> str:
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        return ""
    try:
        if fs is not None and fs.kind == "date":
            day, precision = parse_date(cell, order)
            return {"day": day.isoformat(), "month": day.strftime("%b %Y"), "year": str(day.year)}.get(
                precision, f"c. {day.year}"
            )
        if fs is not None and fs.kind in ("money", "rate", "float", "int"):
            number, currency = parse_amount(cell)
            text = f"{number:,.0f}" if number.is_integer() else f"{number:,}"
            return f"{text} {currency}" if currency else text
        if fs is not None and fs.kind in ("choice", "precision", "currency"):
            return _choice(fs, str(cell).strip())
    except ValueError:
        return f"⚠ {cell} (cannot be read)"
    return _cell_text(cell) if not isinstance(cell, str) else cell.strip()
