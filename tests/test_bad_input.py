"""Bad input, thrown at the store's write API and at every form: a clear message, no exception
escapes, and the database is row-for-row unchanged."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.state import AppState
from explorer.store import Store, StoreError, ValidationError, open_store, validation

NASTY_TEXT = st.one_of(
    st.just(""),
    st.just("   "),
    st.text(alphabet=st.characters(categories=["Cc"]), min_size=1, max_size=20),  # control characters
    st.just("مشروع القطار السريع"),
    st.just("‮gnp.exe"),
    st.just("🚄🇮🇳🇯🇵" * 5),
    st.just("'; DROP TABLE deal; --"),
    st.just('" OR 1=1 --'),
    st.just("x" * 5000),
    st.text(max_size=40),
)
NASTY_NUMBER = st.one_of(
    st.just(float("nan")),
    st.just(float("inf")),
    st.just(float("-inf")),
    st.just(-1.0),
    st.just(1e300),
    st.just("12abc"),
    st.just(""),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
)
NASTY_DATE = st.one_of(
    st.just("2025-02-30"),
    st.just("yesterday"),
    st.just(""),
    st.just("0001-01-01"),
    st.just("9999-12-31"),
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)),
)


def value_for(kind: str) -> st.SearchStrategy:
    return {
        "text": NASTY_TEXT,
        "notes": NASTY_TEXT,
        "choice": NASTY_TEXT,
        "currency": st.one_of(NASTY_TEXT, st.sampled_from(["XYZ", "usd", "EUR", "JPY"])),
        "precision": st.one_of(NASTY_TEXT, st.sampled_from(["day", "week", "decade"])),
        "money": NASTY_NUMBER,
        "rate": NASTY_NUMBER,
        "float": NASTY_NUMBER,
        "int": st.one_of(NASTY_NUMBER, st.integers(min_value=-(2**70), max_value=2**70)),
        "ref": st.one_of(st.integers(min_value=-5, max_value=10**9), st.just("abc"), st.just(-1)),
        "date": NASTY_DATE,
        "json": st.one_of(NASTY_TEXT, st.just("[1, 2]"), st.just('[["deal", 3]]'), st.just("{not json")),
    }[kind]


@st.composite
def bad_record(draw: st.DrawFn) -> tuple[str, dict]:
    record_type = draw(st.sampled_from(sorted(validation.FIELDS)))
    specs = validation.FIELDS[record_type]
    chosen = draw(st.lists(st.sampled_from(specs), min_size=1, max_size=len(specs), unique_by=lambda s: s.name))
    values = {s.name: draw(value_for(s.kind)) for s in chosen}
    if draw(st.booleans()) and {"start_date", "end_date"} <= {s.name for s in specs}:
        values["start_date"], values["end_date"] = dt.date(2025, 6, 1), dt.date(2020, 1, 1)
    return record_type, values


def fingerprint(path: Path) -> str:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    digest = hashlib.sha256()
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'search_index%' ORDER BY name"
        )
    ]
    for table in tables:
        for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY 1'):
            digest.update(repr(row).encode())
    conn.close()
    return digest.hexdigest()


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory: pytest.TempPathFactory, built_demo: Path) -> Store:
    path = tmp_path_factory.mktemp("bad") / "demo.sqlite"
    path.write_bytes(built_demo.read_bytes())
    return open_store(path)


def stored_equal(expected: object, got: object) -> bool:
    if isinstance(expected, float) and isinstance(got, float):
        return math.isclose(expected, got)
    return expected == got


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=bad_record())
def test_store_writes_refuse_bad_input_cleanly(shared_store: Store, case: tuple[str, dict]) -> None:
    record_type, values = case
    before = fingerprint(shared_store.path)
    try:
        changes = shared_store.create(record_type, values)
    except ValidationError as exc:
        assert exc.problems and all(p.message for p in exc.problems)
        assert fingerprint(shared_store.path) == before
        return
    except StoreError as exc:  # e.g. a uniqueness or link rule the database itself enforces
        assert exc.message
        assert fingerprint(shared_store.path) == before
        return
    # Accepted: it was legal after all (emoji, right-to-left or SQL-looking text are just text).
    created = changes.changes[-1]
    _version, stored = shared_store.snapshot(created.record_type, created.record_id)
    cleaned = validation.clean(record_type, values)
    for key, value in cleaned.items():
        if value is not None:  # a blank optional field takes the table's default
            assert stored_equal(value, stored[key]), key
    version = shared_store.get(record_type, created.record_id).version
    shared_store.delete(record_type, created.record_id, expected_version=version, detach=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=bad_record())
def test_updates_with_bad_input_change_nothing(shared_store: Store, case: tuple[str, dict]) -> None:
    record_type, values = case
    records = shared_store.list_records(record_type)
    if not records:
        return
    record_id = records[0][0]
    version, _ = shared_store.snapshot(record_type, record_id)
    before = fingerprint(shared_store.path)
    try:
        shared_store.update(record_type, record_id, values, expected_version=version)
    except StoreError as exc:
        assert exc.message
        assert fingerprint(shared_store.path) == before
        return
    # Accepted (legal after all): the write went through the version check.
    new_version, _ = shared_store.snapshot(record_type, record_id)
    assert new_version >= version


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=bad_record())
def test_every_form_shows_messages_and_writes_nothing_for_bad_input(
    qtbot, demo_path: Path, case: tuple[str, dict]
) -> None:
    from explorer.forms.operations import Operations
    from explorer.forms.record_form import form_for

    record_type, values = case
    store = open_store(demo_path)
    try:
        state = AppState(store)
        ops = Operations(state)
        form = form_for(state, ops, record_type)
        qtbot.addWidget(form)
        for name, value in values.items():
            editor = form.editors[name]
            widget = editor.focus_widget()
            text = "" if value is None else (value.isoformat() if isinstance(value, dt.date) else str(value))
            if hasattr(widget, "setEditText"):
                widget.setEditText(text)
            elif hasattr(widget, "setPlainText"):
                widget.setPlainText(text)
            elif hasattr(widget, "setText"):
                widget.setText(text)
            else:
                editor.set_value(value)
        before = fingerprint(demo_path)
        ok = form.validate()
        form.save()
        accepted = form.result() == form.DialogCode.Accepted
        if not ok:
            assert not accepted
            assert form.error_texts() or form.general_messages()
        if not accepted:
            assert fingerprint(demo_path) == before
            assert form.error_texts() or form.general_messages()
        form.close()
    finally:
        store.close()
