"""Import and export: CSV (one file per record type) and JSON, with records named by UUID.

Integer ids belong to one database; UUIDs travel. So every link in an exported file — a
reference column, an event's participants, a deal's organisations, a citation's record — names
the other record by UUID, and an import matches records by UUID: a known UUID updates that
record, an unknown one creates it (keeping the UUID). The ``id``, ``version``, ``created_at``
and ``updated_at`` columns are written for information and ignored on import.

An import runs in two passes over its files. The first validates every row (the same rules as
the forms: ``validation.clean``, plus references, duplicates and unique names against the
file and the database) and writes nothing; only a file with no problems gets the second pass,
which applies every row in one transaction — all rows or none. No Qt here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import stat
import tempfile
import uuid as uuid_mod
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from explorer import models as m
from explorer import schema
from explorer.store import validation, writes
from explorer.store.changes import ChangeSet
from explorer.store.errors import StoreError, ValidationError

FORMAT_NAME = "partnership-explorer"
FORMAT_VERSION = 1
# Parents before children, so every reference in a file can be resolved as rows are applied:
# the registry's order, read live so a type registered later is exported and imported too.
TYPE_ORDER = schema.KindNames()
INFO_COLUMNS = ("id", "version", "created_at", "updated_at")
# A report longer than this helps nobody; the count of the rest is still given.
MAX_PROBLEMS = 500
LOOKUP_CHUNK = 500


def ref_column(name: str) -> str:
    """``country_id`` → ``country_uuid``: the column naming the referenced record by UUID."""
    return name[: -len("_id")] + "_uuid"


def columns(record_type: str) -> list[str]:
    """The columns of a record type's CSV file (and keys of its JSON objects), in order."""
    out = ["uuid", "id"]
    for fs in validation.FIELDS[record_type]:
        if fs.kind == "ref" or (record_type == "citation" and fs.name == "record_id"):
            out.append(ref_column(fs.name))
        else:
            out.append(fs.name)
    out += [link.column for link in schema.kind(record_type).links]
    out += ["version", "created_at", "updated_at"]
    return out


def _targets(record_type: str) -> dict[str, str | None]:
    """Reference column → the record type it points at (None: given by the row's record_type)."""
    out: dict[str, str | None] = {}
    for fs in validation.FIELDS[record_type]:
        if fs.kind == "ref":
            out[ref_column(fs.name)] = fs.ref
        elif record_type == "citation" and fs.name == "record_id":
            out["record_uuid"] = None
    return out


# --- export ---------------------------------------------------------------------------------


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


Rows = dict[str, list[dict[str, Any]]]


def export_rows(session: Session, selection: Iterable[tuple[str, int]] | None = None) -> Rows:
    """Every record (or a selection and what it needs) as plain rows keyed by column name.

    Values are JSON-ready: text, numbers, None, ISO dates; links are UUID lists.
    """
    conn = session.connection()
    tables = {rt: m.RECORD_TYPES[rt].__table__ for rt in TYPE_ORDER}
    uuids: dict[str, dict[int, str]] = {
        rt: {int(i): str(u) for i, u in conn.execute(sa.select(t.c.id, t.c.uuid))} for rt, t in tables.items()
    }
    # link column → record id → the linked records' UUIDs (with their roles where links have roles)
    linked: dict[str, dict[int, list[Any]]] = {}
    for rt in TYPE_ORDER:
        for link in schema.kind(rt).links:
            by_record: dict[int, list[Any]] = defaultdict(list)
            own, target = getattr(link.table, link.own_key), getattr(link.table, link.target_key)
            if link.roles:
                for rid, tid, role in conn.execute(sa.select(own, target, link.table.role)):  # type: ignore[attr-defined]
                    by_record[int(rid)].append([uuids[link.target][int(tid)], str(role)])
            else:
                for rid, tid in conn.execute(sa.select(own, target)):
                    by_record[int(rid)].append(uuids[link.target][int(tid)])
            linked[f"{rt}.{link.column}"] = by_record

    out: dict[str, list[dict[str, Any]]] = {}
    for rt, table in tables.items():
        rows: list[dict[str, Any]] = []
        for record in conn.execute(sa.select(table).order_by(table.c.id)).mappings():
            row: dict[str, Any] = {"uuid": record["uuid"], "id": record["id"]}
            for fs in validation.FIELDS[rt]:
                value = record[fs.name]
                if fs.kind == "ref":
                    row[ref_column(fs.name)] = None if value is None else uuids[fs.ref][int(value)]  # type: ignore[index]
                elif rt == "citation" and fs.name == "record_id":
                    row["record_uuid"] = uuids.get(record["record_type"], {}).get(int(value))
                else:
                    row[fs.name] = _iso(value)
            for link in schema.kind(rt).links:
                row[link.column] = sorted(linked[f"{rt}.{link.column}"].get(record["id"], []))
            row.update(
                version=record["version"], created_at=_iso(record["created_at"]), updated_at=_iso(record["updated_at"])
            )
            rows.append(row)
        out[rt] = rows
    if selection is not None:
        out = _closure(out, [(rt, uuids[rt][int(i)]) for rt, i in selection if int(i) in uuids.get(rt, {})])
    return out


def _closure(rows: dict[str, list[dict[str, Any]]], wanted: list[tuple[str, str]]) -> dict[str, list[dict[str, Any]]]:
    """The selected records plus everything they point at, their citations and the cited sources,
    so the file can be imported into any database."""
    by_uuid = {(rt, r["uuid"]): r for rt, rs in rows.items() for r in rs}
    keep: set[tuple[str, str]] = set()
    todo = list(wanted)
    citations_of: dict[str, list[str]] = defaultdict(list)
    for c in rows.get("citation", []):
        if c["record_uuid"]:
            citations_of[c["record_uuid"]].append(c["uuid"])
    steps_of: dict[str, list[str]] = defaultdict(list)
    for s in rows.get("storystep", []):
        steps_of[s["story_uuid"]].append(s["uuid"])
    while todo:
        key = todo.pop()
        if key in keep or key not in by_uuid:
            continue
        keep.add(key)
        rt, uid = key
        row = by_uuid[key]
        for column, target in _targets(rt).items():
            if row.get(column):
                todo.append((target or row["record_type"], row[column]))
        for link in schema.kind(rt).links:
            todo += [(link.target, item[0] if link.roles else item) for item in row.get(link.column) or []]
        todo += [("citation", c) for c in citations_of.get(uid, [])]
        todo += [("storystep", s) for s in steps_of.get(uid, [])] if rt == "story" else []
    return {rt: [r for r in rs if (rt, r["uuid"]) in keep] for rt, rs in rows.items()}


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _cell(value: Any, link: schema.LinkSpec | None) -> str:
    if value is None:
        return ""
    if link is not None:  # linked records as UUIDs separated by ";", each with ":role" if links have roles
        return ";".join(f"{u}:{role}" for u, role in value) if link.roles else ";".join(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def csv_bytes(record_type: str, rows: list[dict[str, Any]]) -> bytes:
    """One record type as CSV the way Excel writes it (comma, CRLF, quotes), UTF-8 with a BOM
    so Excel shows non-Latin names (日本, भारत) correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, dialect="excel")
    cols = columns(record_type)
    links = {link.column: link for link in schema.kind(record_type).links}
    writer.writerow(cols)
    for row in rows:
        writer.writerow([_cell(row.get(c), links.get(c)) for c in cols])
    return buffer.getvalue().encode("utf-8-sig")


def write_csv(rows: dict[str, list[dict[str, Any]]], folder: Path) -> list[Path]:
    """One ``<type>.csv`` per record type (every type, so the set is complete even when empty)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for rt in TYPE_ORDER:
        path = folder / f"{rt}.csv"
        _write_atomically(path, csv_bytes(rt, rows.get(rt, [])))
        written.append(path)
    return written


def write_json(rows: dict[str, list[dict[str, Any]]], path: Path, *, schema: str) -> Path:
    document = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "schema": schema,
        "exported_at": _iso(m.utcnow()),
        "records": {rt: rows.get(rt, []) for rt in TYPE_ORDER},
    }
    _write_atomically(path, json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8"))
    return path


def write_sqlite_copy(engine: sa.Engine, source_path: Path | None, out: Path) -> Path:
    """A complete copy as a database file, history included: what an analyst takes away to work
    offline (from a team server too) and later merges back with File ▸ Merge…."""
    from explorer.store import search
    from explorer.store.database import copy_sqlite, open_database, url_for

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial")
    for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        leftover.unlink(missing_ok=True)
    try:
        if source_path is not None:
            copy_sqlite(source_path, tmp)
        else:
            opened = open_database(url_for(tmp))
            try:
                with engine.connect() as source, opened.engine.begin() as dest_conn:
                    for table in m.SQLModel.metadata.sorted_tables:
                        rows = [{k: _utc(v) for k, v in r.items()} for r in source.execute(sa.select(table)).mappings()]
                        if rows:
                            dest_conn.execute(sa.insert(table), rows)
                    search.rebuild(dest_conn)
                with opened.engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                opened.engine.dispose()
        os.replace(tmp, out)
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            leftover.unlink(missing_ok=True)
    return out


def _utc(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC)
    return value


# --- reading files ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an import: where (file), which row (as Excel numbers them), which column."""

    where: str
    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        parts = [self.where]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(self.column)
        return f"{', '.join(parts)}: {self.message}"


@dataclass
class ImportReport:
    problems: list[Problem] = field(default_factory=list)
    more_problems: int = 0  # found but not listed (beyond MAX_PROBLEMS)
    rows: dict[str, int] = field(default_factory=dict)  # rows read per record type
    new: dict[str, int] = field(default_factory=dict)  # per type, after applying
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    # Rows whose UUID is not known here but whose natural key names a record here (a place's
    # name, an event's title and date): (type, label, where, row) — that record is updated.
    matched: list[tuple[str, str, str, int]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.more_problems

    def add(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.more_problems += 1

    def text(self) -> str:
        if self.ok:
            total = sum(self.rows.values())
            lines = [f"{total} row(s) checked; no problems."]
            if self.matched:
                lines.append(
                    f"  {len(self.matched)} row(s) name a record held here under another UUID "
                    "(same name, or title and date): that record is updated, not added twice"
                )
                lines += [f"    {rt} “{label}” ({where}, row {row})" for rt, label, where, row in self.matched[:50]]
                if len(self.matched) > 50:
                    lines.append(f"    … and {len(self.matched) - 50} more")
            for rt in TYPE_ORDER:
                if rt in self.new or rt in self.updated or rt in self.unchanged:
                    lines.append(
                        f"  {rt}: {self.new.get(rt, 0)} new, {self.updated.get(rt, 0)} updated, "
                        f"{self.unchanged.get(rt, 0)} unchanged"
                    )
            return "\n".join(lines)
        lines = [f"Nothing was imported: {len(self.problems) + self.more_problems} problem(s) found."]
        lines += [f"  {p}" for p in self.problems]
        if self.more_problems:
            lines.append(f"  … and {self.more_problems} more.")
        return "\n".join(lines)


@dataclass
class RawRow:
    record_type: str
    where: str
    row: int
    values: dict[str, Any]
    from_csv: bool
    # Only the values given change (a spreadsheet's few columns for a record already held);
    # otherwise a row is the whole record, and what it leaves out takes the defaults.
    partial: bool = False


def _csv_type(path: Path) -> str | None:
    stem = path.stem.lower()
    return stem if stem in TYPE_ORDER else None


def expand_sources(sources: Iterable[Path]) -> list[Path]:
    """Files to read: a folder stands for the ``<type>.csv`` files in it (in dependency order)."""
    out: list[Path] = []
    for source in sources:
        if source.is_dir():
            found = {p.stem.lower(): p for p in source.glob("*.csv")}
            out += [found[rt] for rt in TYPE_ORDER if rt in found]
            out += sorted(p for s, p in found.items() if s not in TYPE_ORDER)
        else:
            out.append(source)
    return out


def _read_csv(path: Path, report: ImportReport) -> Iterator[RawRow]:
    where = path.name
    record_type = _csv_type(path)
    if record_type is None:
        report.add(Problem(where, None, "", f"the file name must be a record type ({', '.join(TYPE_ORDER)}).csv"))
        return
    with path.open("rb") as raw:
        # utf-8-sig reads files with and without the BOM Excel adds; anything else is refused.
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="strict", newline="")
        reader = csv.reader(text, dialect="excel", strict=True)
        row_number = 0
        try:
            header = next(reader, None)
            row_number = 1
            if header is None:
                report.add(Problem(where, None, "", "the file is empty (no header row)."))
                return
            header = [h.strip() for h in header]
            if not _header_ok(record_type, header, where, report):
                return
            for row_number, cells in enumerate(reader, start=2):
                if not any(c.strip() for c in cells):
                    continue  # Excel leaves blank lines at the end
                if len(cells) != len(header):
                    report.add(
                        Problem(
                            where,
                            row_number,
                            "",
                            f"has {len(cells)} values but the header has "
                            f"{len(header)}; the file may be cut short, or a "
                            "value with a comma is not in quotes.",
                        )
                    )
                    continue
                yield RawRow(record_type, where, row_number, dict(zip(header, cells, strict=True)), True)
        except UnicodeDecodeError as exc:
            report.add(
                Problem(
                    where,
                    row_number + 1,
                    "",
                    f"is not UTF-8 text (byte 0x{exc.object[exc.start]:02x}). "
                    "Save the file as “CSV UTF-8” and import it again.",
                )
            )
        except csv.Error as exc:
            report.add(
                Problem(
                    where,
                    max(row_number, 1) + 1,
                    "",
                    f"cannot be read as CSV ({exc}); the file may be cut short or damaged.",
                )
            )


def _header_ok(record_type: str, header: list[str], where: str, report: ImportReport) -> bool:
    expected = columns(record_type)
    ok = True
    seen: set[str] = set()
    for name in header:
        if name in seen:
            report.add(Problem(where, 1, name, "appears twice in the header."))
            ok = False
        seen.add(name)
        if name not in expected:
            report.add(Problem(where, 1, name, f"is not a column of {record_type} files (see the column list)."))
            ok = False
    for name in expected:
        if name not in seen and name not in INFO_COLUMNS:
            report.add(Problem(where, 1, name, "is missing from the header."))
            ok = False
    return ok


def _read_json(path: Path, report: ImportReport) -> Iterator[RawRow]:
    where = path.name
    try:
        document = json.loads(path.read_bytes().decode("utf-8-sig"))
    except RecursionError:
        report.add(
            Problem(where, None, "", "is nested too deeply to be an export (lists or objects inside one another).")
        )
        return
    except UnicodeDecodeError as exc:
        report.add(
            Problem(where, None, "", f"is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}).")
        )
        return
    except json.JSONDecodeError as exc:
        report.add(
            Problem(
                where,
                exc.lineno,
                "",
                f"is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); the file may be cut short.",
            )
        )
        return
    records = document.get("records") if isinstance(document, dict) else None
    if not isinstance(records, dict) or (document.get("format") not in (None, FORMAT_NAME)):
        report.add(Problem(where, None, "", 'is not a Partnership Explorer export (no "records" object).'))
        return
    version = document.get("format_version", 1)
    whole = isinstance(version, int | float) and not isinstance(version, bool) and math.isfinite(version)
    if not whole or version != int(version) or version < 1:
        wanted = f"must be a whole number (this version writes {FORMAT_VERSION})."
        report.add(Problem(where, None, "format_version", wanted))
        return
    if int(version) > FORMAT_VERSION:
        report.add(Problem(where, None, "", "was written by a newer version of Partnership Explorer."))
        return
    for rt in records:
        if rt not in TYPE_ORDER:
            report.add(Problem(where, None, rt, "is not a record type."))
    for rt in TYPE_ORDER:
        rows = records.get(rt) or []
        if not isinstance(rows, list):
            report.add(Problem(f"{where} ▸ {rt}", None, "", "must be a list of records."))
            continue
        allowed = set(columns(rt))
        for n, row in enumerate(rows, start=1):
            if not isinstance(row, dict):
                report.add(Problem(f"{where} ▸ {rt}", n, "", "must be an object."))
                continue
            unknown = sorted(set(row) - allowed)
            for name in unknown:
                report.add(Problem(f"{where} ▸ {rt}", n, name, f"is not a field of {rt} records."))
            if unknown:
                continue
            yield RawRow(rt, f"{where} ▸ {rt}", n, row, False)


MAX_FILE_BYTES = 2 * 1024**3  # beyond this a file is not read into memory whole


def file_problem(path: Path) -> str | None:
    """Why a path cannot be read as a file to import (None: it can): missing, a folder, a device
    or pipe (a link to /dev/zero would be read for ever), or too large."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return f"there is no file at {path}."
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})."
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file (a folder, device or pipe): nothing to import."
    if info.st_size > MAX_FILE_BYTES:
        return f"is larger than {MAX_FILE_BYTES // 1024**3} GB; split it into smaller files."
    return None


def read_sources(sources: Iterable[Path], report: ImportReport) -> Iterator[RawRow]:
    for path in expand_sources(sources):
        refused = file_problem(path)
        if refused is not None:
            report.add(Problem(path.name, None, "", refused))
        elif path.suffix.lower() == ".json":
            yield from _read_json(path, report)
        elif path.suffix.lower() == ".csv":
            yield from _read_csv(path, report)
        else:
            report.add(Problem(path.name, None, "", "is neither a .csv nor a .json file."))


# --- checking rows ------------------------------------------------------------------------------


@dataclass
class ParsedRow:
    record_type: str
    where: str
    row: int
    uuid: str
    values: dict[str, Any]  # plain field values, cleaned; references still as UUIDs
    refs: dict[str, str]  # model field (country_id, record_id) → UUID
    # link name (participant_ids) → linked UUIDs, or (UUID, role) pairs; absent: left as they are
    links: dict[str, list[Any]] = field(default_factory=dict)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _as_uuid(value: Any) -> str | None:
    try:
        return str(uuid_mod.UUID(str(value).strip()))
    except (ValueError, AttributeError, TypeError):
        return None


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _column_of(record_type: str, name: str) -> str:
    """The file column a field is read from (``country_id`` → ``country_uuid``)."""
    fs = validation.spec(record_type, name)
    is_ref = fs is not None and (fs.kind == "ref" or (record_type == "citation" and name == "record_id"))
    return ref_column(name) if is_ref else name


def _labels(record_type: str) -> dict[str, str]:
    out = {}
    for fs in validation.FIELDS[record_type]:
        is_ref = fs.kind == "ref" or (record_type == "citation" and fs.name == "record_id")
        out[fs.label] = ref_column(fs.name) if is_ref else fs.name
    return out


def parse_row(raw: RawRow, report: ImportReport) -> ParsedRow | None:
    """One row's values, coerced and checked like a form's (references are checked later)."""
    rt, values = raw.record_type, raw.values
    problems: list[Problem] = []

    def bad(column: str, message: str) -> None:
        problems.append(Problem(raw.where, raw.row, column, message))

    uid = _as_uuid(values.get("uuid"))
    if uid is None:
        bad(
            "uuid",
            "must be a UUID like 0b6c1e9e-1c1b-4a43-9f0e-2d1f3c4b5a69."
            if not _blank(values.get("uuid"))
            else "is required (every record carries its UUID).",
        )
    plain: dict[str, Any] = {}
    refs: dict[str, str] = {}
    for fs in validation.FIELDS[rt]:
        is_ref = fs.kind == "ref" or (rt == "citation" and fs.name == "record_id")
        column = ref_column(fs.name) if is_ref else fs.name
        if column not in values:
            continue  # JSON rows may leave fields out: the defaults apply
        value = values[column]
        if raw.from_csv and isinstance(value, str) and value == "":
            value = None
        if is_ref:
            if _blank(value):
                plain[fs.name] = None
                continue
            ref = _as_uuid(value)
            if ref is None:
                bad(column, "must be the UUID of the record it points at.")
                continue
            refs[fs.name] = ref
            plain[fs.name] = 1  # a stand-in id: the UUID is resolved once every row is known
        else:
            plain[fs.name] = value
    links: dict[str, list[Any]] = {}
    for link in schema.kind(rt).links:
        if link.column not in values:
            continue
        found: list[Any] = []
        items = values[link.column]
        what = schema.label(link.target).lower()
        if items is not None and not isinstance(items, str | list):
            bad(link.column, f"must be a list of {what} UUIDs" + (" and roles." if link.roles else "."))
            continue
        if isinstance(items, str):
            items = [p for p in items.split(";") if p.strip()]
            if link.roles:
                items = [p.split(":", 1) if ":" in p else [p, link.default_role] for p in items]
        for item in items or []:
            if not link.roles:
                ref = _as_uuid(item)
                if ref is None:
                    bad(link.column, f"{item!r} is not {_article(what)} {what}'s UUID.")
                else:
                    found.append(ref)
                continue
            if not isinstance(item, list | tuple) or len(item) != 2:
                bad(link.column, f"{item!r} must be {_article(what)} {what} UUID and a role.")
                continue
            ref, role = _as_uuid(item[0]), str(item[1]).strip()
            if ref is None:
                bad(link.column, f"{item[0]!r} is not {_article(what)} {what}'s UUID.")
            elif role not in link.roles:
                bad(link.column, f"role {role!r} must be one of {', '.join(link.roles)}.")
            else:
                found.append((ref, role))
        links[link.name] = found
    try:
        cleaned = validation.clean(rt, plain, partial=raw.partial)
    except ValidationError as exc:
        labels = _labels(rt)
        for fp in exc.problems:
            bad(_column_of(rt, fp.name) if fp.name else labels.get(fp.field, fp.field), fp.message)
        cleaned = {}
    for p in problems:
        report.add(p)
    if problems or uid is None:
        return None
    return ParsedRow(rt, raw.where, raw.row, uid, cleaned, refs, links)


class _Checker:
    """What one row cannot know alone: duplicates, references and unique names across the file
    and the database. Keeps only small facts per row, so a 100 MB file is checked in one pass."""

    def __init__(self, session: Session, report: ImportReport) -> None:
        self.session = session
        self.report = report
        self.seen: dict[str, tuple[str, int]] = {}  # uuid → first (where, row)
        self.ids: dict[tuple[str, str], tuple[str, int]] = {}  # (type, id column) → first (where, row)
        self.in_file: dict[str, set[str]] = defaultdict(set)
        self.names: dict[tuple[str, str], tuple[str, str, int]] = {}  # (type, unique value) → (uuid, where, row)
        self.pending: list[tuple[str, str, Problem]] = []  # (target type, uuid, problem if missing)
        # Rows of types whose records point at one another (a sector's parent), cut down to that
        # pointer: the import orders them (and refuses loops) the same way, see finish().
        self.chains: dict[str, list[ParsedRow]] = defaultdict(list)

    def row(self, raw: RawRow, parsed: ParsedRow | None) -> None:
        uid = _as_uuid(raw.values.get("uuid"))
        if uid is not None:
            if uid in self.seen:
                where, row = self.seen[uid]
                self.report.add(
                    Problem(
                        raw.where, raw.row, "uuid", f"is also used by {where} row {row}; each record must appear once."
                    )
                )
            else:
                self.seen[uid] = (raw.where, raw.row)
            self.in_file[raw.record_type].add(uid)
        rid = raw.values.get("id")
        if not _blank(rid):
            key = (raw.record_type, str(rid).strip())
            if key in self.ids:
                where, row = self.ids[key]
                self.report.add(
                    Problem(
                        raw.where,
                        raw.row,
                        "id",
                        f"{rid} is also used by {where} row {row} (leave id blank for a new record).",
                    )
                )
            else:
                self.ids[key] = (raw.where, raw.row)
        if parsed is None:
            return
        unique = validation.unique_field(parsed.record_type)
        if unique and parsed.values.get(unique):
            key2 = (parsed.record_type, str(parsed.values[unique]))
            if key2 in self.names and self.names[key2][0] != parsed.uuid:
                _u, where, row = self.names[key2]
                self.report.add(
                    Problem(raw.where, raw.row, unique, f"{parsed.values[unique]!r} is also used by {where} row {row}.")
                )
            else:
                self.names[key2] = (parsed.uuid, raw.where, raw.row)
        own = _self_ref(parsed.record_type)
        if own is not None:
            pointer = {own: parsed.refs[own]} if own in parsed.refs else {}
            self.chains[parsed.record_type].append(
                ParsedRow(parsed.record_type, parsed.where, parsed.row, parsed.uuid, {}, pointer)
            )
        targets = _targets(parsed.record_type)
        for name, ref in parsed.refs.items():
            column = ref_column(name)
            target = targets[column] or str(parsed.values.get("record_type"))
            self.pending.append(
                (
                    target,
                    ref,
                    Problem(
                        raw.where,
                        raw.row,
                        column,
                        f"points at a {target} ({ref}) that is neither in the file nor in the database.",
                    ),
                )
            )
        for link in schema.kind(parsed.record_type).links:
            for item in parsed.links.get(link.name, []):
                ref = item[0] if link.roles else item
                message = f"{link.target} {ref} is neither in the file nor in the database."
                self.pending.append((link.target, ref, Problem(raw.where, raw.row, link.column, message)))

    def finish(self) -> None:
        self._check_chains()
        wanted: dict[str, set[str]] = defaultdict(set)
        for target, ref, _p in self.pending:
            if ref not in self.in_file[target]:
                wanted[target].add(ref)
        known = {t: uuids_in_database(self.session, t, refs) for t, refs in wanted.items()}
        for target, ref, problem in self.pending:
            if ref not in self.in_file[target] and ref not in known.get(target, set()):
                self.report.add(problem)
        # Unique names: a record in the database with another UUID already has this name.
        by_type: dict[str, list[tuple[str, str, str, int]]] = defaultdict(list)
        for (rt, value), (uid, where, row) in self.names.items():
            by_type[rt].append((value, uid, where, row))
        for rt, items in by_type.items():
            cls = m.RECORD_TYPES[rt]
            unique = validation.unique_field(rt)
            assert unique is not None
            column = getattr(cls, unique)
            for start in range(0, len(items), LOOKUP_CHUNK):
                chunk = items[start : start + LOOKUP_CHUNK]
                query = select(column, cls.uuid).where(column.in_([c[0] for c in chunk]))
                owners = dict(self.session.exec(query).all())
                for value, uid, where, row in chunk:
                    if value in owners and owners[value] != uid:
                        self.report.add(
                            Problem(
                                where,
                                row,
                                unique,
                                f"{value!r} is already the name of another {rt} in the database.",
                            )
                        )

    def _check_chains(self) -> None:
        """Records pointing at themselves or in a loop: within the file, refused by the ordering
        the import uses (the same function); through records in the database, as the write would."""
        for rt, rows in self.chains.items():
            try:
                _ordered(rows)
            except ImportFailedError as exc:
                for problem in exc.report.problems:
                    self.report.add(problem)
                continue
            column = _self_ref(rt)
            assert column is not None
            in_file = {r.uuid: r.refs.get(column) for r in rows}
            if not any(in_file.values()):
                continue
            table = m.RECORD_TYPES[rt].__table__
            parent = table.c[column]
            ids = {
                str(u): (int(i), int(p) if p is not None else None)
                for u, i, p in self.session.execute(sa.select(table.c.uuid, table.c.id, parent))
            }
            uuid_of = {i: u for u, (i, _p) in ids.items()}
            for row in rows:
                if row.uuid not in ids or not in_file.get(row.uuid):
                    continue  # a new record cannot close a loop through the database
                seen, at = {row.uuid}, in_file[row.uuid]
                while at is not None:
                    if at in seen:
                        self.report.add(Problem(row.where, row.row, ref_column(column), writes.loop_message(rt)))
                        break
                    seen.add(at)
                    if at in in_file:
                        at = in_file[at]
                    else:
                        held = ids.get(at)
                        at = uuid_of.get(held[1]) if held is not None and held[1] is not None else None


def uuids_in_database(session: Session, record_type: str, candidates: Iterable[str]) -> set[str]:
    cls = m.RECORD_TYPES[record_type]
    items = list(candidates)
    found: set[str] = set()
    for start in range(0, len(items), LOOKUP_CHUNK):
        found.update(session.exec(select(cls.uuid).where(col(cls.uuid).in_(items[start : start + LOOKUP_CHUNK]))))
    return found


def check(session: Session, sources: list[Path]) -> ImportReport:
    """Validate every row of the files; writes nothing."""
    report = ImportReport()
    check_rows(session, match_by_natural_key(session, read_sources(sources, report), report), report)
    if not report.problems and not report.rows:
        report.add(Problem(", ".join(p.name for p in sources) or "import", None, "", "holds no records."))
    return report


# --- applying ---------------------------------------------------------------------------------


@dataclass
class ImportResult:
    """What an import did, enough to undo it: records it created and the old values it replaced."""

    report: ImportReport
    created: list[tuple[str, int]] = field(default_factory=list)  # in the order created
    updated: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)  # (type, id, old values)
    versions: dict[tuple[str, int], int] = field(default_factory=dict)  # version of each record afterwards
    backup: Path | None = None
    changes: ChangeSet = field(default_factory=ChangeSet)

    def __getstate__(self) -> dict[str, Any]:
        # Sent to another process to be taken back: what it changed is not needed for that, and
        # a hundred thousand changes pickled would hold the sender.
        return {**self.__dict__, "changes": ChangeSet()}


class ImportFailedError(StoreError):
    title = "Import failed"

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        super().__init__(report.text())


def _self_ref(record_type: str) -> str | None:
    """The field by which records of a type point at one another (a sector's parent)."""
    return next((f.name for f in schema.kind(record_type).fields if f.kind == "ref" and f.ref == record_type), None)


def _ordered(rows: list[ParsedRow]) -> list[ParsedRow]:
    """Rows of one type with any parent (sector, superseded pledge) in the file before its children."""
    column = _self_ref(rows[0].record_type) if rows else None
    if column is None:
        return rows
    in_file = {r.uuid for r in rows}
    done: set[str] = set()
    out: list[ParsedRow] = []
    pending = rows
    while pending:
        rest = [r for r in pending if r.refs.get(column) in in_file and r.refs.get(column) not in done]
        ready = [r for r in pending if r not in rest] if len(rest) < len(pending) else []
        if not ready:
            first = rest[0]
            raise ImportFailedError(
                ImportReport(
                    [
                        Problem(
                            first.where,
                            first.row,
                            ref_column(column),
                            "is part of a loop of records pointing at each other.",
                        )
                    ]
                )
            )
        out += ready
        done.update(r.uuid for r in ready)
        pending = rest
    return out


def check_rows(session: Session, raws: Iterable[RawRow], report: ImportReport | None = None) -> ImportReport:
    """Validate rows already in memory (a merge's new records); writes nothing."""
    report = report or ImportReport()
    checker = _Checker(session, report)
    for raw in raws:
        report.rows[raw.record_type] = report.rows.get(raw.record_type, 0) + 1
        checker.row(raw, parse_row(raw, report))
    checker.finish()
    return report


def apply(session: Session, sources: list[Path], *, user: str) -> ImportResult:
    """Second pass: write every row. Raises ImportFailedError (and the caller's transaction rolls
    back) if anything is refused — rows are all applied or none."""
    report = ImportReport()
    raws = match_by_natural_key(session, read_sources(sources, report), report)
    return apply_rows(session, raws, user=user, report=report)


def match_by_natural_key(session: Session, raws: Iterable[RawRow], report: ImportReport) -> list[RawRow]:
    """Rows of records whose UUID is not known here but whose natural key names one that is
    (another analyst made the same place) take that record's UUID, and so do the references to
    them in the other rows: the import updates it instead of adding it twice (listed in
    ``report.matched`` for review)."""
    from explorer.store.merge import _rewrite
    from explorer.store.spreadsheet import _existing_by_key, _natural_key

    rows = list(raws)
    by_type: dict[str, list[RawRow]] = defaultdict(list)
    for raw in rows:
        by_type[raw.record_type].append(raw)
    remap: dict[str, str] = {}
    for rt in TYPE_ORDER:
        kind = schema.kind(rt)
        of_type = by_type.get(rt, [])
        if not of_type or kind.owned_by is not None or not kind.natural_key:
            continue
        for raw in of_type:
            _rewrite(raw.values, remap)  # a key may name a matched record (a place's country)
        uuids = [str(raw.values.get("uuid") or "").strip() for raw in of_type]
        held = _ids_by_uuid(session, rt, [u for u in uuids if u])
        existing: dict[tuple[Any, ...], str] | None = None
        for raw, uid in zip(of_type, uuids, strict=True):
            if not uid or uid in held:
                continue
            existing = _existing_by_key(session, kind) if existing is None else existing
            key = _natural_key(kind, raw.values)
            if key is not None and key in existing and existing[key] != uid:
                remap[uid] = raw.values["uuid"] = existing[key]
                report.matched.append((rt, str(raw.values.get(kind.title) or ""), raw.where, raw.row))
    if remap:
        for raw in rows:
            _rewrite(raw.values, remap)
    return rows


class ImportCancelledError(StoreError):
    title = "Import cancelled"


# Called as rows are done: (what is being done, rows done, rows in all); may not be called at all.
Progress = Callable[[str, int, int], None]


def _ids_by_uuid(session: Session, record_type: str, uuids: list[str]) -> dict[str, int]:
    """The stored ids of those of ``uuids`` held already (read in chunks, not one query a row)."""
    cls = m.RECORD_TYPES[record_type]
    table = cls.__table__
    found: dict[str, int] = {}
    for start in range(0, len(uuids), 500):
        chunk = uuids[start : start + 500]
        found.update(
            (str(u), int(i))
            for u, i in session.execute(select(table.c.uuid, table.c.id).where(table.c.uuid.in_(chunk)))
        )
    return found


def apply_rows(
    session: Session,
    raws: Iterable[RawRow],
    *,
    user: str,
    report: ImportReport | None = None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ImportResult:
    """Write the rows (one transaction is the caller's); ``cancelled()`` polled between rows
    raises ImportCancelledError, so the caller's transaction rolls back and nothing is written."""
    report = report or ImportReport()
    parsed: dict[str, list[ParsedRow]] = defaultdict(list)
    for raw in raws:
        row = parse_row(raw, report)
        if row is not None:
            parsed[row.record_type].append(row)
        report.rows[raw.record_type] = report.rows.get(raw.record_type, 0) + 1
    if not report.ok:
        raise ImportFailedError(report)
    result = ImportResult(report)
    ids: dict[tuple[str, str], int] = {}
    done, total = 0, sum(len(rows) for rows in parsed.values())

    def resolve(record_type: str, ref: str, row: ParsedRow, column: str) -> int:
        if (record_type, ref) not in ids:
            cls = m.RECORD_TYPES[record_type]
            found = session.exec(select(cls.id).where(cls.uuid == ref)).first()
            if found is None:
                raise ImportFailedError(
                    ImportReport(
                        [Problem(row.where, row.row, column, f"points at a {record_type} that does not exist.")]
                    )
                )
            ids[(record_type, ref)] = int(found)
        return ids[(record_type, ref)]

    def refused(rt: str, row: ParsedRow, exc: ValidationError) -> ImportFailedError:
        labels = _labels(rt)
        return ImportFailedError(
            ImportReport([Problem(row.where, row.row, labels.get(p.field, p.field), p.message) for p in exc.problems])
        )

    def values_of(rt: str, row: ParsedRow, targets: dict[str, str | None]) -> dict[str, Any]:
        values = dict(row.values)
        for name, ref in row.refs.items():
            column = ref_column(name)
            values[name] = resolve(targets[column] or str(values.get("record_type")), ref, row, column)
        for link in schema.kind(rt).links:
            if link.name in row.links:
                values[link.name] = [
                    (resolve(link.target, item[0], row, link.column), item[1])
                    if link.roles
                    else resolve(link.target, item, row, link.column)
                    for item in row.links[link.name]
                ]
        return values

    def write_batch(rt: str, targets: dict[str, str | None], batch: list[ParsedRow]) -> None:
        if not batch:
            return
        todo = [(r.uuid, values_of(rt, r, targets)) for r in batch]
        try:
            made = writes.create_many(session, rt, todo, user=user)
        except writes.RowValidationError as exc:
            raise refused(rt, batch[exc.index], exc) from exc
        for r, change in zip(batch, made, strict=True):
            ids[(rt, r.uuid)] = change.record_id
            result.created.append((rt, change.record_id))
            result.versions[(rt, change.record_id)] = 1
        report.new[rt] = report.new.get(rt, 0) + len(batch)
        result.changes.changes += made
        batch.clear()

    for rt in TYPE_ORDER:
        targets = _targets(rt)
        rows = _ordered(parsed.get(rt, []))
        cls = m.RECORD_TYPES[rt]
        held = _ids_by_uuid(session, rt, [r.uuid for r in rows])
        # New records go in batches (one statement a table each); a row pointing at a record of
        # its own type still in the batch (a sector's new parent) waits for the batch to be written.
        batch: list[ParsedRow] = []
        batched: set[str] = set()

        for row in rows:
            done += 1
            if done % 500 == 0:
                if cancelled is not None and cancelled():
                    raise ImportCancelledError("The import was cancelled; nothing was written.")
                if progress is not None:
                    progress("Writing", done, total)
            record_id = held.get(row.uuid)
            if record_id is None:
                if len(batch) >= 1000 or not batched.isdisjoint(row.refs.values()):
                    write_batch(rt, targets, batch)
                    batched.clear()
                batch.append(row)
                batched.add(row.uuid)
                continue
            write_batch(rt, targets, batch)
            batched.clear()
            existing = session.get(cls, record_id)
            assert existing is not None
            values = values_of(rt, row, targets)
            before = writes.snapshot(session, rt, existing)
            try:
                change = writes.update(session, rt, record_id, values, expected_version=existing.version, user=user)
            except ValidationError as exc:
                raise refused(rt, row, exc) from exc
            if change:
                result.updated.append((rt, record_id, {k: before[k] for k in values if k in before}))
                report.updated[rt] = report.updated.get(rt, 0) + 1
            else:
                report.unchanged[rt] = report.unchanged.get(rt, 0) + 1
            ids[(rt, row.uuid)] = record_id
            result.changes.changes += change.changes
        write_batch(rt, targets, batch)
    session.flush()
    for rt, record_id, _old in result.updated:
        record = session.get(m.RECORD_TYPES[rt], record_id)
        if record is not None:
            result.versions[(rt, record_id)] = record.version
    result.changes.summarise()
    return result


def undo(session: Session, result: ImportResult, *, user: str) -> ChangeSet:
    """Take an import back: restore the values it replaced and delete the records it created.

    Version-checked like any write: if someone changed an imported record since, this raises
    ConflictError and (the caller's transaction rolling back) nothing is undone.
    """
    changes = ChangeSet()
    for rt, record_id, old in reversed(result.updated):
        changes.changes += writes.update(
            session, rt, record_id, old, expected_version=result.versions[(rt, record_id)], user=user
        ).changes
    # Created records go by type, newest type first (an import writes type after type); those of
    # a type pointing at its own kind (a sector's parent) one by one, newest first.
    by_type: dict[str, list[int]] = {}
    for rt, record_id in reversed(result.created):
        by_type.setdefault(rt, []).append(record_id)
    for rt, record_ids in by_type.items():
        if _self_ref(rt) is None:
            versions = {i: result.versions[(rt, i)] for i in record_ids}
            changes.changes += writes.delete_many(session, rt, versions, user=user)
            continue
        for record_id in record_ids:
            record = session.get(m.RECORD_TYPES[rt], record_id)
            if record is None:
                continue  # went with its parent (a citation or story step)
            changes.changes += writes.delete(
                session, rt, record_id, expected_version=result.versions[(rt, record_id)], user=user
            ).changes
    changes.summarise()
    return changes
