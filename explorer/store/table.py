"""The records table's queries: the ids of one type in a chosen order (filtered by text), and the
cells of a page of them. Ids come back as one numpy array, so a million rows cost 8 MB and the
table model only ever asks for the rows on screen. No Qt here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from explorer import schema
from explorer.store.search import _escape_like

PAGE = 64  # about three screens of rows: one small query per scroll to an unread place


@dataclass(frozen=True)
class TableColumn:
    """One column of the table: a field of the type (a reference shows the record's name)."""

    name: str
    label: str
    kind: str
    ref: str | None = None


def columns(record_type: str) -> list[TableColumn]:
    kind = schema.kind(record_type)
    out = [TableColumn(f.name, f.label, f.kind, f.ref) for f in kind.fields if f.kind != "json"]
    # The title first: what a person reads a row by.
    out.sort(key=lambda c: c.name != kind.title)
    return out


def ordered_ids(
    conn: Connection, record_type: str, sort: str | None = None, descending: bool = False, text: str = ""
) -> np.ndarray:
    """Ids of the type's records in table order: by ``sort`` (a field; a reference sorts by the
    name of what it points at), ties by id; only those whose title or text columns hold ``text``."""
    kind = schema.kind(record_type)
    table = kind.model.__table__
    query = sa.select(table.c.id)
    order: list[Any] = []
    if sort:
        spec = kind.field(sort)
        if spec is not None and spec.kind == "ref" and spec.ref is not None:
            target = schema.kind(spec.ref)
            other = target.model.__table__.alias("sort_target")
            query = query.select_from(table.outerjoin(other, other.c.id == table.c[sort]))
            key: Any = other.c[target.title]
        else:
            key = table.c[sort]
        order.append(key.is_(None))  # blanks last either way
        order.append(key.desc() if descending else key.asc())
    order.append(table.c.id.desc() if descending and not sort else table.c.id)
    words = [w for w in text.split() if w]
    if words:
        searched = [table.c[kind.title], *(table.c[c] for c in kind.search)]
        for word in words:
            pattern = f"%{_escape_like(word.lower())}%"
            query = query.where(sa.or_(*(sa.func.lower(c).like(pattern, escape="\\") for c in searched)))
    rows = conn.execute(query.order_by(*order)).scalars().all()
    return np.fromiter(rows, dtype=np.int64, count=len(rows))


def page(conn: Connection, record_type: str, ids: list[int]) -> dict[int, tuple[Any, ...]]:
    """The cells of these records, one tuple per id in ``columns(record_type)`` order (references
    by the name of what they point at), then the date's precision (or None) and the version."""
    kind = schema.kind(record_type)
    cols = columns(record_type)
    table = kind.model.__table__
    wanted = [table.c.id, table.c.version, *(table.c[c.name] for c in cols)]
    if kind.dated:
        wanted.append(table.c.date_precision)
    rows = list(conn.execute(sa.select(*wanted).where(table.c.id.in_(ids))))
    names: dict[str, dict[int, str]] = {}
    for i, col in enumerate(cols):
        if col.ref is not None:
            target = schema.kind(col.ref)
            refs = {int(r[2 + i]) for r in rows if r[2 + i] is not None}
            if refs:
                t = target.model.__table__
                found = conn.execute(sa.select(t.c.id, t.c[target.title]).where(t.c.id.in_(refs)))
                names[col.name] = {int(rid): str(title or "") for rid, title in found}
    out: dict[int, tuple[Any, ...]] = {}
    for r in rows:
        precision = r[-1] if kind.dated else None
        cells: list[Any] = []
        for i, col in enumerate(cols):
            value = r[2 + i]
            if col.ref is not None and value is not None:
                value = names.get(col.name, {}).get(int(value), f"#{value}")
            cells.append(value)
        out[int(r[0])] = (*cells, precision, int(r[1]))
    return out
