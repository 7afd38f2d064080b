"""The relationship map's queries: which records a record is linked to, read by id.

Every edge comes from the schema (explorer/schema.py): a reference field (a deal's pledge), a
link table (a deal's organisations with their roles, an event's participants) or a citation (a
source cited by a record). Neighbours are read with indexed lookups by id, so a record's
neighbourhood costs the same at a thousand records as at a million; a record with more
neighbours of one kind than ``cap`` (a sector's thirty thousand deals) gives the first ``cap``
and an :class:`Overflow` saying how many there are. No Qt here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from explorer import models as m
from explorer import schema

Ref = tuple[str, int]  # (record type, id)
CHUNK = 500  # ids per IN (...): well under SQLite's and PostgreSQL's parameter limits
# Below this many neighbours of one kind the largest by USD come first; above, the newest
# (sorting a sector's thirty thousand deals by amount would cost more than the rest together).
SORT_BY_AMOUNT_UP_TO = 5_000


@dataclass(frozen=True)
class EdgeType:
    """One kind of link between records, read from the schema."""

    key: str  # "deal.pledge_id", "deal.organisations", "citation"
    source: str  # the type holding the reference, link row or citation
    target: str | None  # the type pointed at (None: a citation points at any citeable type)
    column: str  # the reference field or the link's name
    relation: str  # how it reads from the source ("under pledge"); a role's name for roles
    inverse: str  # how it reads from the target ("deal under it")
    kind: Literal["ref", "link", "cites"]
    roles: tuple[str, ...] = ()

    def touches(self, record_type: str) -> bool:
        return record_type == self.source or self.target in (record_type, None)


def node_types() -> tuple[str, ...]:
    """The types drawn as nodes: what a person creates, not parts of another record (a
    citation is an edge) nor workshop material (stories)."""
    linked = {t for e in edge_types() for t in (e.source, e.target) if t is not None}
    return tuple(k.name for k in schema.kinds() if k.creatable and k.owned_by is None and k.name in linked)


_EDGE_TYPES: dict[tuple[int, ...], tuple[EdgeType, ...]] = {}


def edge_types() -> tuple[EdgeType, ...]:
    """Every link the schema has, in registry order (worked out again when a type is registered)."""
    registry = tuple(id(k) for k in schema.kinds())
    found = _EDGE_TYPES.get(registry)
    if found is None:
        _EDGE_TYPES.clear()
        found = _EDGE_TYPES[registry] = _edge_types()
    return found


def _edge_types() -> tuple[EdgeType, ...]:
    out: list[EdgeType] = []
    drawn = {k.name for k in schema.kinds() if k.creatable and k.owned_by is None}
    for kind in schema.kinds():
        if kind.owned_by is not None and {"record_type", "record_id"} <= set(kind.field_names):
            owner = next((f for f in kind.fields if f.kind == "ref" and f.ref == kind.owned_by), None)
            if owner is not None:  # a citation: its owner (the source) is cited by the record
                out.append(EdgeType(kind.name, kind.owned_by, None, owner.name, "cited by", "cites", "cites"))
            continue
        if kind.name not in drawn:
            continue
        for f in kind.fields:
            if f.kind == "ref" and f.ref in drawn:
                inverse = f.inverse or schema.label(kind.name).lower()
                out.append(EdgeType(f"{kind.name}.{f.name}", kind.name, f.ref, f.name, f.relation, inverse, "ref"))
        for link in kind.links:
            out.append(
                EdgeType(
                    f"{kind.name}.{link.name}",
                    kind.name,
                    link.target,
                    link.name,
                    link.relation or link.default_role,
                    link.inverse,
                    "link",
                    link.roles,
                )
            )
    return tuple(out)


def edge_type(key: str) -> EdgeType:
    return next(e for e in edge_types() if e.key == key)


@dataclass(frozen=True)
class EdgeRow:
    """One link: ``source`` holds it, it points at ``target``; ``relation`` reads from the source."""

    source: Ref
    target: Ref
    type_key: str
    relation: str


@dataclass(frozen=True)
class Overflow:
    """``ref`` has ``total`` neighbours of ``other_type`` by ``type_key``; ``shown`` were read."""

    ref: Ref
    type_key: str
    other_type: str
    total: int
    shown: int
    outgoing: bool = False  # ``ref`` holds the links (a source's citations), else they point at it


@dataclass
class Neighbourhood:
    edges: list[EdgeRow] = field(default_factory=list)
    overflow: list[Overflow] = field(default_factory=list)


@dataclass(frozen=True)
class NodeInfo:
    ref: Ref
    label: str
    start_day: float | None = None
    end_day: float | None = None
    amount_usd: float | None = None


def _chunks(values: Sequence[int]) -> Iterator[list[int]]:
    for at in range(0, len(values), CHUNK):
        yield list(values[at : at + CHUNK])


def _table(record_type: str) -> sa.Table:
    return m.RECORD_TYPES[record_type].__table__


def _by_type(refs: Iterable[Ref]) -> dict[str, list[int]]:
    out: dict[str, set[int]] = defaultdict(set)
    for record_type, record_id in refs:
        out[record_type].add(int(record_id))
    return {t: sorted(ids) for t, ids in out.items()}


def _link_table(e: EdgeType) -> tuple[sa.Table, str, str, bool]:
    kind = schema.kind(e.source)
    link = next(lk for lk in kind.links if lk.name == e.column)
    table = link.table.__table__  # type: ignore[attr-defined]
    return table, link.own_key, link.target_key, bool(link.roles)


def neighbours(conn: Connection, refs: Iterable[Ref], cap: int = 60, *, by_amount: bool = True) -> Neighbourhood:
    """Every edge of the given records, both directions, at most ``cap`` per record and kind:
    the largest by USD first when ``by_amount`` (and there are not too many to sort), else the
    newest (an index walk: a second hop over hundreds of records stays within a frame or two)."""
    out = Neighbourhood()
    by_type = _by_type(refs)
    types = edge_types()
    for record_type, ids in by_type.items():
        for e in types:
            if e.source == record_type:
                _outgoing(conn, e, ids, cap, out, by_amount)
            if e.target == record_type or (e.kind == "cites" and record_type in schema.citeable()):
                _incoming(conn, e, record_type, ids, cap, out, by_amount)
    return out


def _outgoing(conn: Connection, e: EdgeType, ids: list[int], cap: int, out: Neighbourhood, by_amount: bool) -> None:
    """From the holder's side: its reference, its link rows, or the records a source is cited by."""
    if e.kind == "ref":
        table = _table(e.source)
        column = table.c[e.column]
        target = str(e.target)
        for chunk in _chunks(ids):
            rows = conn.execute(sa.select(table.c.id, column).where(table.c.id.in_(chunk), column.is_not(None)))
            for rid, other in rows:
                out.edges.append(EdgeRow((e.source, int(rid)), (target, int(other)), e.key, e.relation))
        return
    if e.kind == "link":
        table, own, other_key, has_role = _link_table(e)
        _capped(
            conn,
            e,
            table,
            table.c[own],
            table.c[other_key],
            ids,
            cap,
            out,
            outgoing=True,
            role=has_role,
            by_amount=by_amount,
        )
        return
    cite = _table(e.key)
    _capped_cites(conn, e, cite, ids, cap, out)


def _incoming(
    conn: Connection, e: EdgeType, record_type: str, ids: list[int], cap: int, out: Neighbourhood, by_amount: bool
) -> None:
    """From the side pointed at: who refers to these records, links to them, or cites them."""
    if e.kind == "ref":
        table = _table(e.source)
        _capped(conn, e, table, table.c[e.column], table.c.id, ids, cap, out, outgoing=False, by_amount=by_amount)
        return
    if e.kind == "link":
        table, own, other_key, has_role = _link_table(e)
        _capped(
            conn,
            e,
            table,
            table.c[other_key],
            table.c[own],
            ids,
            cap,
            out,
            outgoing=False,
            role=has_role,
            by_amount=by_amount,
        )
        return
    cite = _table(e.key)
    owner = cite.c[e.column]
    for chunk in _chunks(ids):
        rows = conn.execute(
            sa.select(cite.c.record_id, owner)
            .where(cite.c.record_type == record_type, cite.c.record_id.in_(chunk))
            .distinct()
        )
        for rid, source_id in rows:
            out.edges.append(EdgeRow((e.source, int(source_id)), (record_type, int(rid)), e.key, e.relation))


def _capped(
    conn: Connection,
    e: EdgeType,
    table: sa.Table,
    key: sa.ColumnElement[Any],
    other: sa.ColumnElement[Any],
    ids: list[int],
    cap: int,
    out: Neighbourhood,
    *,
    outgoing: bool,
    role: bool = False,
    by_amount: bool = True,
) -> None:
    """Rows of ``table`` whose ``key`` is one of ``ids``: their ``other`` ends, at most ``cap``
    per id (counted first with the index on ``key``; the rest is an Overflow)."""
    here_type = e.source if outgoing else str(e.target)
    other_type = str(e.target) if outgoing else e.source
    counts: dict[int, int] = {}
    for chunk in _chunks(ids):
        for rid, n in conn.execute(sa.select(key, sa.func.count()).where(key.in_(chunk)).group_by(key)):
            counts[int(rid)] = int(n)
    small = [i for i, n in counts.items() if n <= cap]
    large = sorted(i for i, n in counts.items() if n > cap)
    columns: list[Any] = [key, other] + ([table.c.role] if role else [])

    def add(rows: Iterable[Any]) -> None:
        for row in rows:
            rid, oid = int(row[0]), int(row[1])
            relation = str(row[2]) if role and row[2] else e.relation
            here, there = (here_type, rid), (other_type, oid)
            source, target = (here, there) if outgoing else (there, here)
            out.edges.append(EdgeRow(source, target, e.key, relation))

    for chunk in _chunks(sorted(small)):
        add(conn.execute(sa.select(*columns).where(key.in_(chunk))))
    other_table = _table(other_type)
    amount = other_table.c.get("amount_usd") if by_amount else None
    # One statement for every large id (compiled once: hundreds of ids on a second hop).
    newest = sa.select(*columns).where(key == sa.bindparam("rid")).order_by(other.desc()).limit(cap)
    biggest = None
    if amount is not None:
        biggest = sa.select(*columns).where(key == sa.bindparam("rid"))
        if other_table is not table:
            biggest = biggest.join(other_table, other_table.c.id == other)
        biggest = biggest.order_by(amount.is_(None), amount.desc(), other.desc()).limit(cap)
    for rid in large:
        sortable = biggest is not None and counts[rid] <= SORT_BY_AMOUNT_UP_TO
        add(conn.execute(biggest if sortable and biggest is not None else newest, {"rid": rid}))
        out.overflow.append(Overflow((here_type, rid), e.key, other_type, counts[rid], cap, outgoing))


def _capped_cites(conn: Connection, e: EdgeType, cite: sa.Table, ids: list[int], cap: int, out: Neighbourhood) -> None:
    """A source's citing records, at most ``cap`` per source and cited type (the newest): one
    pass over the source's citations, grouped here (a query per type cost more than the pass)."""
    owner = cite.c[e.column]
    for chunk in _chunks(ids):
        seen: dict[tuple[int, str], set[int]] = {}
        rows = conn.execute(
            sa.select(owner, cite.c.record_type, cite.c.record_id).where(owner.in_(chunk)).order_by(cite.c.id.desc())
        )
        for sid, rtype, rid in rows:
            seen.setdefault((int(sid), str(rtype)), set()).add(int(rid))
        for (sid, rtype), records in sorted(seen.items()):
            if rtype not in m.RECORD_TYPES:
                continue
            for rid in sorted(records, reverse=True)[:cap]:
                out.edges.append(EdgeRow((e.source, sid), (rtype, rid), e.key, e.relation))
            if len(records) > cap:
                out.overflow.append(Overflow((e.source, sid), e.key, rtype, len(records), cap, True))


def node_info(conn: Connection, refs: Iterable[Ref]) -> dict[Ref, NodeInfo]:
    """Label, dates and USD amount of each record that exists."""
    out: dict[Ref, NodeInfo] = {}
    for record_type, ids in _by_type(refs).items():
        if record_type not in schema.KINDS:
            continue
        kind = schema.kind(record_type)
        table = _table(record_type)
        cols: list[Any] = [table.c.id, table.c[kind.title]]
        dated = "start_day" in table.c
        money = "amount_usd" in table.c
        if dated:
            cols += [table.c.start_day, table.c.end_day]
        if money:
            cols.append(table.c.amount_usd)
        for chunk in _chunks(ids):
            for row in conn.execute(sa.select(*cols).where(table.c.id.in_(chunk))):
                start = end = usd = None
                if dated:
                    start = None if row[2] is None else float(row[2])
                    end = start if row[3] is None else float(row[3])
                if money:
                    usd = None if row[-1] is None else float(row[-1])
                ref = (record_type, int(row[0]))
                out[ref] = NodeInfo(ref, str(row[1] or ""), start, end, usd)
    return out


def all_edges(conn: Connection) -> list[EdgeRow]:
    """Every edge in the database (small databases and tests: the whole map at once)."""
    out: list[EdgeRow] = []
    for e in edge_types():
        if e.kind == "ref":
            table = _table(e.source)
            column = table.c[e.column]
            for rid, other in conn.execute(sa.select(table.c.id, column).where(column.is_not(None))):
                out.append(EdgeRow((e.source, int(rid)), (str(e.target), int(other)), e.key, e.relation))
        elif e.kind == "link":
            table, own, other_key, has_role = _link_table(e)
            cols: list[Any] = [table.c[own], table.c[other_key]] + ([table.c.role] if has_role else [])
            for row in conn.execute(sa.select(*cols)):
                relation = str(row[2]) if has_role and row[2] else e.relation
                out.append(EdgeRow((e.source, int(row[0])), (str(e.target), int(row[1])), e.key, relation))
        else:
            cite = _table(e.key)
            rows = conn.execute(sa.select(cite.c[e.column], cite.c.record_type, cite.c.record_id).distinct())
            for sid, rtype, rid in rows:
                if rtype in m.RECORD_TYPES:
                    out.append(EdgeRow((e.source, int(sid)), (str(rtype), int(rid)), e.key, e.relation))
    return out


def overview(conn: Connection) -> list[tuple[int | None, int | None, int, float]]:
    """(sector, country, deals, USD) for the map's overview at any size: deals in a sector with
    an organisation from a country, as blocks rather than a million dots."""
    de, do, org = _table("deal"), m.DealOrganisation.__table__, _table("organisation")
    query = (
        sa.select(
            de.c.sector_id,
            org.c.country_id,
            sa.func.count(sa.distinct(de.c.id)),
            sa.func.coalesce(sa.func.sum(de.c.amount_usd), 0.0),
        )
        .select_from(de.join(do, do.c.deal_id == de.c.id).join(org, org.c.id == do.c.organisation_id))
        .group_by(de.c.sector_id, org.c.country_id)
    )
    return [
        (None if s is None else int(s), None if c is None else int(c), int(n), float(u))
        for s, c, n, u in conn.execute(query)
    ]
