"""Generated import files, CSV and JSON, as careless tools and people make them: whatever they
hold, the check and the import agree (the check passes exactly when the import goes through),
no unexpected error escapes, and a refused import leaves the database as it was.

Runs 1,200 generated files (derandomised: the same files on every run) and prints what it
tried: files, refused, imported, escapes.
"""

from __future__ import annotations

import csv
import io
import json
import math
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer import models as m
from explorer import schema
from explorer.store import Store, StoreError, exchange, open_store

EXAMPLES = 1_200
TYPES = list(exchange.TYPE_ORDER)

# Values that have upset importers: wrong types, edge numbers, markup, odd digits, deep nesting.
odd_text = st.sampled_from(
    ["", " ", "0", "-1", "1e-400", "1e400", "NaN", "inf", "1_000", "1 000", "٣", "３", "2.5", "12",
     "2025-02-30", "2025-13-01", "29/08/2025", "0000-01-01", "9999-12-31", "<b>x</b>", "x\x00y",
     "a" * 400, "summit", "day", "year", "USD", "XYZ", "lead", "[]", "{}", "[" * 50 + "]" * 50,
     "[[\"event\", \"0b6c1e9e-1c1b-4a43-9f0e-2d1f3c4b5a69\"]]", "; ;", "null", "true"]
)  # fmt: skip
odd_value = st.one_of(
    odd_text,
    st.text(max_size=30),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.lists(st.one_of(st.text(max_size=8), st.integers()), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory: pytest.TempPathFactory, built_demo: Path) -> Any:
    folder = tmp_path_factory.mktemp("fuzz")
    copy = folder / "fuzz.sqlite"
    copy.write_bytes(built_demo.read_bytes())
    store = open_store(copy)
    store.backup_now = lambda reason="": None  # type: ignore[method-assign]  # 1,200 backups prove nothing here
    uuids: dict[str, list[str]] = {}
    with store.read() as session:
        for rt in exchange.TYPE_ORDER:
            table = m.RECORD_TYPES[rt].__table__
            uuids[rt] = [str(u) for u in session.execute(sa.select(table.c.uuid).limit(5)).scalars()]
        real = {rt: rows[:5] for rt, rows in exchange.export_rows(session).items()}
    yield store, folder, (uuids, real)
    store.close()


def _fingerprint(store: Store) -> tuple[Any, ...]:
    """Cheap and exact enough: the change log's end and every table's row count and newest version."""
    with store.read() as session:
        conn = session.connection()
        parts: list[Any] = [conn.execute(sa.select(sa.func.max(m.ChangeLog.id))).scalar()]
        for cls in m.RECORD_TYPES.values():
            table = cls.__table__
            parts.append(conn.execute(sa.select(sa.func.count(), sa.func.sum(table.c.version))).one())
    return tuple(parts)


@st.composite
def import_file(draw: Any, known: Any) -> tuple[str, str, list[dict[str, Any]]]:
    """(format, record type, rows): each row mixes plausible values with odd ones, or is a real
    record (held or copied as new) with one or two of its values made odd."""
    uuids, real = known
    rt = draw(st.sampled_from(TYPES))
    if real.get(rt) and draw(st.booleans()):
        rows = []
        for _ in range(draw(st.integers(min_value=1, max_value=3))):
            row = {k: v for k, v in draw(st.sampled_from(real[rt])).items() if k not in exchange.INFO_COLUMNS}
            if draw(st.booleans()):
                row["uuid"] = str(uuid.uuid4())  # a copy: a new record, its unique name then clashes
            for column in draw(st.lists(st.sampled_from(exchange.columns(rt)), max_size=2)):
                row[column] = draw(st.one_of(odd_text, odd_value))
            rows.append(row)
        return draw(st.sampled_from(["json", "csv"])), rt, rows
    cols = exchange.columns(rt)
    refs = {exchange.ref_column(fs.name): fs.ref for fs in schema.kind(rt).fields if fs.kind == "ref"}
    rows = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        row: dict[str, Any] = {}
        for column in cols:
            choice = draw(st.integers(min_value=0, max_value=9))
            if column == "uuid":
                row[column] = draw(st.sampled_from([str(uuid.uuid4()), *uuids.get(rt, []), "not-a-uuid", ""]))
            elif choice < 5:
                continue  # left out (JSON) or blank (CSV)
            elif column in refs and choice < 8:
                target = refs[column] or draw(st.sampled_from(exchange.TYPE_ORDER))
                row[column] = draw(st.sampled_from([*uuids.get(target, []), str(uuid.uuid4())]))
            elif column == "record_type":
                row[column] = draw(st.sampled_from([*exchange.TYPE_ORDER, "nonsense"]))
            elif choice < 8:
                row[column] = draw(odd_text)
            else:
                row[column] = draw(odd_value)
        rows.append(row)
    return draw(st.sampled_from(["json", "csv"])), rt, rows


def _write(folder: Path, fmt: str, rt: str, rows: list[dict[str, Any]]) -> Path:
    if fmt == "json":
        path = folder / "generated.json"
        document = {"format": exchange.FORMAT_NAME, "format_version": 1, "records": {rt: rows}}
        path.write_text(json.dumps(document, allow_nan=True), encoding="utf-8")
        return path
    out = folder / "csv"
    out.mkdir(exist_ok=True)
    path = out / f"{rt}.csv"
    cols = exchange.columns(rt)
    buffer = io.StringIO()
    writer = csv.writer(buffer, dialect="excel")
    writer.writerow(cols)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in cols])
    path.write_text(buffer.getvalue(), encoding="utf-8-sig")
    return path


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


TALLY = {"files": 0, "refused": 0, "imported": 0, "escapes": 0, "changed on refusal": 0, "check disagreed": 0}


def test_generated_files_are_refused_cleanly_or_imported_and_check_agrees_with_import(fuzz_store: Any) -> None:
    store, folder, known = fuzz_store

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(import_file(known))
    def case(generated: tuple[str, str, list[dict[str, Any]]]) -> None:
        fmt, rt, rows = generated
        path = _write(folder, fmt, rt, rows)
        TALLY["files"] += 1
        before = _fingerprint(store)
        try:
            report = store.check_import([path])
        except StoreError:
            report = None  # a clear refusal of the file as a whole
        except Exception:
            TALLY["escapes"] += 1
            raise
        try:
            result = store.import_files([path])
        except StoreError:
            TALLY["refused"] += 1
            if _fingerprint(store) != before:
                TALLY["changed on refusal"] += 1
            assert _fingerprint(store) == before, "a refused import changed the database"
            if report is not None and report.ok:
                TALLY["check disagreed"] += 1
            assert report is None or not report.ok, f"--check passed what the import refused: {rows!r}"
            return
        except Exception:
            TALLY["escapes"] += 1
            raise
        TALLY["imported"] += 1
        if report is None or not report.ok:
            TALLY["check disagreed"] += 1
        assert report is not None and report.ok, f"--check refused what the import took: {report and report.text()}"
        store.undo_import(result)
        assert [p[0] for p in _fingerprint(store)[1:]] == [p[0] for p in before[1:]], "undo left records behind"

    case()
    print("\nimport fuzz: " + ", ".join(f"{k} {v:,}" for k, v in TALLY.items()))
    assert TALLY["files"] >= 1_000 and TALLY["escapes"] == 0
    assert TALLY["refused"] and TALLY["imported"]  # both outcomes were exercised
