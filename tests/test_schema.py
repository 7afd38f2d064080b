"""The record-kind registry describes every type fully, and a new type added by the README's
recipe alone shows in forms, import, export and search."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import get_args

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QInputDialog
from sqlmodel import Field, SQLModel

from explorer import models as m
from explorer import schema
from explorer.forms.record_form import FORMS
from explorer.store import Store, exchange
from explorer.views.main_window import MainWindow

# --- the registry is complete -----------------------------------------------------------------


def record_tables() -> set[str]:
    """Tables with the columns every record has (the link tables and bookkeeping have not)."""
    return {name for name, t in SQLModel.metadata.tables.items() if {"uuid", "version"} <= set(t.c.keys())}


def test_every_record_table_is_described_and_every_described_type_is_a_table() -> None:
    assert set(schema.KINDS) == record_tables()
    assert set(schema.KINDS) == set(m.RECORD_TYPES)
    for name, kind in schema.KINDS.items():
        assert kind.model is m.RECORD_TYPES[name] and kind.model.__tablename__ == name


@pytest.mark.parametrize("name", list(schema.KINDS))
def test_each_type_is_fully_described(name: str) -> None:
    kind = schema.kind(name)
    table = SQLModel.metadata.tables[name]
    columns = set(table.c.keys())
    fields = set(kind.field_names)
    assert kind.label and kind.label[0].isupper()
    # Every column a person can set is a field, and every field is a column.
    settable = columns - set(schema.RECORD_COLUMNS) - (set(schema.DERIVED_COLUMNS) - fields)
    assert fields == settable, (
        f"{name}: columns without a field {settable - fields}, fields without a column {fields - settable}"
    )
    assert len(kind.field_names) == len(fields), f"{name} lists a field twice"
    # Every foreign key is a ref field pointing at the right type, and every ref field is one.
    for column in table.columns:
        spec = kind.field(column.name)
        targets = {fk.column.table.name for fk in column.foreign_keys}
        if targets:
            assert spec is not None and spec.kind == "ref" and {spec.ref} == targets, f"{name}.{column.name}"
            assert spec.relation, f"{name}.{column.name} has no relation name"
        elif spec is not None:
            assert spec.kind != "ref", f"{name}.{column.name} is a ref without a foreign key"
    assert kind.title in columns
    assert set(kind.search) <= columns
    assert kind.natural_key and set(kind.natural_key) <= columns
    if kind.unique is not None:
        assert kind.unique in fields and (
            table.c[kind.unique].unique
            or any(
                set(c.columns.keys()) == {kind.unique}
                for c in table.constraints
                if c.__class__.__name__ == "UniqueConstraint"
            )
        )
    # A choice field's default is one of its choices, so a new record is valid as shown.
    for spec in kind.fields:
        default = kind.model.model_fields[spec.name].default
        if spec.kind == "choice" and spec.choices and isinstance(default, str):
            assert default in spec.choices, f"{name}.{spec.name} defaults to {default!r}"
    # Dated types are drawn on the timeline, and only they are.
    assert (kind.lane is not None or kind.band) == kind.dated, f"{name}: lane {kind.lane!r}, dated {kind.dated}"
    assert name in FORMS


def test_every_link_table_is_described_once() -> None:
    described = [link.table.__tablename__ for k in schema.kinds() for link in k.links]
    link_tables = {
        name
        for name, t in SQLModel.metadata.tables.items()
        if name not in record_tables() and len([c for c in t.c if c.foreign_keys]) == 2
    }
    assert sorted(described) == sorted(link_tables)
    for k in schema.kinds():
        for link in k.links:
            table = SQLModel.metadata.tables[link.table.__tablename__]
            own = {fk.column.table.name for fk in table.c[link.own_key].foreign_keys}
            target = {fk.column.table.name for fk in table.c[link.target_key].foreign_keys}
            assert own == {k.name} and target == {link.target}
            assert ("role" in table.c) == bool(link.roles)
            assert link.inverse and (link.relation or link.roles)


def test_export_order_puts_every_type_after_the_types_it_points_at() -> None:
    order = list(exchange.TYPE_ORDER)
    for k in schema.kinds():
        for spec in k.fields:
            if spec.kind == "ref" and spec.ref != k.name:
                assert order.index(spec.ref) < order.index(k.name), f"{k.name}.{spec.name} → {spec.ref}"
        for link in k.links:
            assert order.index(link.target) < order.index(k.name)


def test_references_come_from_the_foreign_keys() -> None:
    refs = schema.references()
    assert ("deal", "pledge_id") in refs["pledge"] and ("pledge", "supersedes_id") in refs["pledge"]
    assert ("citation", "source_id") in refs["source"]
    total = sum(len(v) for v in refs.values())
    assert total == sum(1 for k in schema.kinds() for f in k.fields if f.kind == "ref")


def test_every_kind_of_field_has_its_check() -> None:
    from explorer.store import validation

    assert set(get_args(schema.FieldKind)) == set(validation.CHECKS)
    used = {f.kind for k in schema.kinds() for f in k.fields}
    assert used <= set(validation.CHECKS)


def test_one_label_per_type() -> None:
    from explorer.formatting import KIND_LABEL

    assert KIND_LABEL["deal"] == schema.kind("deal").label == "Deal"
    assert dict(KIND_LABEL) == {k.name: k.label for k in schema.kinds()}


# --- adding a type by the recipe ------------------------------------------------------------


@pytest.fixture(scope="module")
def grant_model() -> Iterator[type[m.Record]]:
    """Step 1 of the README's recipe, for a "grant" (money an organisation is given): the model,
    a table with the record columns (in explorer/models.py). Made once: a mapped class cannot be
    declared twice; its table leaves the metadata after this module, so no other test sees it."""

    class Grant(m.Record, table=True):
        title: str = Field(max_length=300)
        organisation_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
        amount_usd: float | None = None
        notes: str | None = None

    yield Grant
    SQLModel.metadata.remove(SQLModel.metadata.tables["grant"])


@pytest.fixture
def grant_type(store: Store, grant_model: type[m.Record]) -> Iterator[schema.RecordKind]:
    """Steps 2 and 3 of the recipe."""
    # 2. The migration (alembic revision --autogenerate): here the table is made directly.
    SQLModel.metadata.tables["grant"].create(store.engine)
    # 3. The description, in explorer/schema.py.
    kind = schema.register(
        schema.RecordKind(
            "grant",
            grant_model,
            "Grant",
            (
                schema.FieldSpec("title", "Title", "text", required=True, max_length=300),
                schema.ref("organisation_id", "Given to", "organisation", inverse="grant received"),
                schema.FieldSpec("amount_usd", "Amount in USD", "money"),
                schema.FieldSpec("notes", "Notes", "notes"),
            ),
            title="title",
            search=("notes",),
            natural_key=("title",),
            citeable=True,
        )
    )
    yield kind
    schema.unregister("grant")


def test_a_type_added_by_the_recipe_is_described_completely(grant_type: schema.RecordKind) -> None:
    test_each_type_is_fully_described("grant")
    assert "grant" in schema.citeable()
    citation_types = schema.kind("citation").field("record_type")
    assert citation_types is not None and "grant" in citation_types.choices


def test_a_type_added_by_the_recipe_has_a_form_that_saves(
    qtbot, window: MainWindow, store: Store, grant_type: schema.RecordKind, monkeypatch: pytest.MonkeyPatch
) -> None:
    offered: list[str] = []

    def get_item(_parent, _title, _label, items, *_args):  # Edit ▸ New asks which kind
        offered.extend(items)
        return "Grant", True

    monkeypatch.setattr(QInputDialog, "getItem", get_item)
    form = window.editing.new_record()
    assert "Grant" in offered
    qtbot.addWidget(form)
    assert [form.labels[n] for n in ("title", "organisation_id", "amount_usd", "notes")] == [
        "Title",
        "Given to",
        "Amount in USD",
        "Notes",
    ]
    assert form.citations_editor is not None  # citeable: the form lists its sources
    toyota = next(rid for rid, name in store.list_records("organisation") if name.startswith("Toyota"))
    form.editors["title"].focus_widget().setText("Skills grant for Gujarat plants")
    form.editors["organisation_id"].set_value(toyota)
    qtbot.keyClicks(form.editors["amount_usd"].focus_widget(), "2500000")
    assert form.save_button is not None and form.save_button.isEnabled(), form.error_texts()
    qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    assert form.result() == QDialog.DialogCode.Accepted, form.general_messages() or form.error_texts()
    saved = store.get("grant", window.state.current.record_id)
    assert (saved.title, saved.organisation_id, saved.amount_usd) == ("Skills grant for Gujarat plants", toyota, 2.5e6)
    # The organisation's detail lists it by the relation the recipe named.
    links = store.detail("organisation", toyota).links
    assert ("grant received", "grant", saved.id) in [(ln.relation, ln.record_type, ln.record_id) for ln in links]
    # Problems name their field: a blank title is shown beside the title.
    form = window.editing.new_record("grant")
    qtbot.addWidget(form)
    form.validate()
    assert "title" in form.field_errors


def test_a_type_added_by_the_recipe_is_exported_imported_and_found(
    store: Store, grant_type: schema.RecordKind, tmp_path: Path
) -> None:
    toyota = next(rid for rid, name in store.list_records("organisation") if name.startswith("Toyota"))
    toyota_uuid = store.get("organisation", toyota).uuid
    created = store.create(
        "grant", {"title": "Hydrogen pilot grant", "organisation_id": toyota, "notes": "electrolyser"}
    )
    grant_id = created.changes[-1].record_id

    # Export: its own CSV file and JSON section, the organisation named by UUID.
    files = store.export(tmp_path / "csv", fmt="csv")
    assert tmp_path / "csv" / "grant.csv" in files
    header = (tmp_path / "csv" / "grant.csv").read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert "organisation_uuid" in header and "title" in header
    store.export(tmp_path / "all.json", fmt="json")
    rows = json.loads((tmp_path / "all.json").read_text(encoding="utf-8"))["records"]["grant"]
    assert [(r["title"], r["organisation_uuid"]) for r in rows] == [("Hydrogen pilot grant", toyota_uuid)]

    # Import: a new grant in a file of its own, pointing at the organisation by UUID.
    new_file = tmp_path / "grants.json"
    new_file.write_text(
        json.dumps(
            {
                "format": "partnership-explorer",
                "records": {
                    "grant": [
                        {
                            "uuid": "7d3f2c1e-0a4b-4c5d-8e9f-1a2b3c4d5e6f",
                            "title": "Semiconductor skills grant",
                            "organisation_uuid": toyota_uuid,
                            "amount_usd": 1000000,
                        }
                    ]
                },
            }
        ),
        encoding="utf-8",
    )
    assert store.check_import([new_file]).ok
    store.import_files([new_file])
    imported = [rid for rid, title in store.list_records("grant") if title == "Semiconductor skills grant"]
    assert len(imported) == 1 and store.get("grant", imported[0]).organisation_id == toyota
    # A bad row is refused with its column named, like any other type's.
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"records": {"grant": [{"uuid": "8d3f2c1e-0a4b-4c5d-8e9f-1a2b3c4d5e6f"}]}}))
    report = store.check_import([bad])
    assert not report.ok and [p.column for p in report.problems] == ["title"]

    # Search: Find anything lists it by its title and by the words of its notes.
    found = [(f.record_type, f.record_id) for f in store.find("hydrogen pilot")]
    assert ("grant", grant_id) in found
    assert ("grant", grant_id) in [(f.record_type, f.record_id) for f in store.find("electrolyser")]
