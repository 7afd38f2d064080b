"""Bulk inserts for generated or imported data: many records in one write transaction.

Each row goes through the same validation as a form's write (``validation.clean``), the
database enforces references and unique names (foreign keys are on), and the search index
gets the same text ``search.reindex`` would give it. What is skipped, because it would cost
more than the insert at a million rows: one ORM object per record and the per-field change
log (records still carry their UUID, version and timestamps).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic_core import PydanticUndefined
from sqlmodel import Session

from explorer import models as m
from explorer import schema
from explorer.store import search, validation

CHUNK = 5000
LINK_TABLES: dict[str, sa.Table] = {
    "dealorganisation": m.DealOrganisation.__table__,
    "eventparticipant": m.EventParticipant.__table__,
}
_T = TypeVar("_T")


def _chunks(rows: Iterable[_T], size: int = CHUNK) -> Iterator[list[_T]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def _next_id(session: Session, table: sa.Table) -> int:
    return int(session.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one()) + 1


def create_many(session: Session, record_type: str, rows: Iterable[dict[str, Any]]) -> range:
    """Insert validated records with consecutive ids; returns the ids (in the order given)."""
    cls = m.RECORD_TYPES[record_type]
    table: sa.Table = cls.__table__
    dated = cls in m.DATED_TYPES
    first = next_id = _next_id(session, table)
    now = m.utcnow()
    defaults = {
        name: field.default
        for name, field in cls.model_fields.items()
        if field.default is not None and not callable(field.default) and field.default is not PydanticUndefined
    }
    title_col, extra_cols = search.INDEXED.get(record_type, ("", ()))
    index_sql = sa.text("INSERT INTO search_index (record_type, record_id, title, body) VALUES (:t, :i, :title, :body)")
    for chunk in _chunks(rows):
        values: list[dict[str, Any]] = []
        for raw in chunk:
            row = validation.clean(record_type, raw)
            row.update(id=next_id, uuid=m.new_uuid(), version=1, created_at=now, updated_at=now)
            if dated:
                row["start_day"] = m.day_number(row.get("start_date"))
                row["end_day"] = m.day_number(row.get("end_date"))
            values.append(row)
            next_id += 1
        # Columns a row leaves out take the model's defaults (as the ORM would give them).
        for row in values:
            for key, default in defaults.items():
                row.setdefault(key, default)
        keys = {k for row in values for k in row}
        for row in values:
            for key in keys.difference(row):
                row[key] = None
        session.execute(sa.insert(table), values)
        if title_col:
            session.execute(
                index_sql,
                [
                    {
                        "t": record_type,
                        "i": row["id"],
                        "title": row.get(title_col) or "",
                        "body": " ".join(str(row[c]) for c in extra_cols if row.get(c)),
                    }
                    for row in values
                ],
            )
    return range(first, next_id)


def link_many(session: Session, link_table: str, rows: Iterable[dict[str, Any]]) -> int:
    """Insert rows of a link table (deal ↔ organisation with a role, event ↔ participant)."""
    table = LINK_TABLES[link_table]
    count = 0
    for chunk in _chunks(rows):
        if link_table == "dealorganisation":
            roles = schema.kind("deal").links[0].roles
            bad = {r["role"] for r in chunk if r.get("role", "partner") not in roles}
            if bad:
                raise ValueError(f"unknown organisation roles: {sorted(bad)}")
        session.execute(sa.insert(table), chunk)
        count += len(chunk)
    return count
