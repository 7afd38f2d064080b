"""Read queries the views need, returning plain data (numpy columns for the timeline)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from operator import itemgetter
from typing import Any, NamedTuple, overload

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from explorer import models as m
from explorer import schema
from explorer.store import pledges
from explorer.store.changes import Change
from explorer.store.errors import RecordNotFoundError
from explorer.store.filtering import Filters, deal_conditions, record_conditions, tables

# Timeline record types, in lane order.
# The types with a timeline lane; a type's code in timeline arrays is its place here.
TIMELINE_TYPES: tuple[str, ...] = schema.timeline_types()
TYPE_CODE: dict[str, int] = {name: code for code, name in enumerate(TIMELINE_TYPES)}
PRECISION_CODE: dict[str, int] = {p.value: n for n, p in enumerate(m.DatePrecision)}


@dataclass
class TimelineData:
    """Column arrays, one row per dated record; index i of every array is the same record."""

    record_type: np.ndarray  # int8 codes into TIMELINE_TYPES
    record_id: np.ndarray  # int64
    start: np.ndarray  # float64 day numbers
    end: np.ndarray  # float64; equals start for point events
    precision: np.ndarray  # int8 codes into DatePrecision order
    amount_usd: np.ndarray  # float64, NaN where none
    sector_id: np.ndarray  # int32 (a million records: 4 MB each instead of 8), -1 where none
    country_id: np.ndarray  # int32, -1 where none
    label: np.ndarray  # object (str)

    def __len__(self) -> int:
        return int(self.record_id.shape[0])

    @classmethod
    def empty(cls) -> TimelineData:
        return cls.from_rows([])

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[Any]]) -> TimelineData:
        n = len(rows)
        if n == 0:
            cols: list[list[Any]] = [[] for _ in range(9)]
        else:
            cols = [list(c) for c in zip(*rows, strict=True)]
        start = np.array(cols[2], dtype=np.float64) if n else np.zeros(0)
        end_raw = np.array([np.nan if v is None else v for v in cols[3]], dtype=np.float64)
        end = np.where(np.isnan(end_raw), start, end_raw) if n else np.zeros(0)
        return cls(
            record_type=np.array(cols[0], dtype=np.int8),
            record_id=np.array(cols[1], dtype=np.int64),
            start=start,
            end=end,
            precision=np.array(cols[4], dtype=np.int8),
            amount_usd=np.array([np.nan if v is None else v for v in cols[5]], dtype=np.float64),
            sector_id=np.array([-1 if v is None else v for v in cols[6]], dtype=np.int32),
            country_id=np.array([-1 if v is None else v for v in cols[7]], dtype=np.int32),
            label=np.array(cols[8], dtype=object),
        )

    def take(self, rows: np.ndarray) -> TimelineData:
        """The records at positions ``rows`` (a mask's ``flatnonzero``), every column alike."""
        return TimelineData(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    def index_of(self, record_type: str, record_id: int) -> int | None:
        hits = np.flatnonzero((self.record_type == TYPE_CODE[record_type]) & (self.record_id == record_id))
        return int(hits[0]) if hits.size else None


def _precision_case(column: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
    return sa.case(*((column == name, code) for name, code in PRECISION_CODE.items()), else_=0)


_Expr = sa.ColumnElement[Any]  # a column or an expression in a select


def _timeline_selects() -> dict[str, sa.Select[Any]]:
    """Per type: id, start, end (start when none), precision code, USD (-1 when none), sector, country, label.

    NULLs become sentinels in SQL so the columns load straight into typed numpy arrays.
    """
    ev, pl, de, ini, ta, pla = (
        m.Event.__table__,
        m.Pledge.__table__,
        m.Deal.__table__,
        m.Initiative.__table__,
        m.Target.__table__,
        m.Place.__table__,
    )
    none = sa.literal(-1)
    no_usd = sa.literal(-1.0)

    def cols(table: sa.Table, usd: _Expr, sector: _Expr, country: _Expr, label: _Expr) -> list[_Expr]:
        return [
            table.c.id,
            table.c.start_day,
            sa.func.coalesce(table.c.end_day, table.c.start_day),
            _precision_case(table.c.date_precision),
            usd,
            sector,
            country,
            label,
        ]

    c = sa.func.coalesce
    return {
        "event": sa.select(*cols(ev, no_usd, none, c(pla.c.country_id, -1), ev.c.title)).select_from(
            ev.outerjoin(pla, pla.c.id == ev.c.place_id)
        ),
        "pledge": sa.select(*cols(pl, c(pl.c.amount_usd, -1.0), none, c(pl.c.pledger_id, -1), pl.c.title)),
        "deal": sa.select(
            *cols(de, c(de.c.amount_usd, -1.0), c(de.c.sector_id, -1), c(pla.c.country_id, -1), de.c.title)
        ).select_from(de.outerjoin(pla, pla.c.id == de.c.place_id)),
        "initiative": sa.select(*cols(ini, no_usd, c(ini.c.sector_id, -1), none, ini.c.name)),
        "target": sa.select(*cols(ta, c(ta.c.amount_usd, -1.0), none, none, ta.c.name)),
    }


def _table(record_type: str) -> sa.Table:
    return m.RECORD_TYPES[record_type].__table__


def fetch_rows(conn: Connection, query: sa.Select[Any]) -> list[tuple[Any, ...]]:
    """Plain tuples for a query: on SQLite straight from the driver's cursor (no Row objects)."""
    if conn.dialect.name != "sqlite":
        return [tuple(r) for r in conn.execute(query)]
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    args = tuple(params[name] for name in (compiled.positiontup or ()))
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        rows: list[tuple[Any, ...]] = cursor.execute(str(compiled), args).fetchall()
        return rows
    finally:
        cursor.close()


FETCH_CHUNK = 50_000  # rows turned into arrays at a time: a million tuples at once would double peak memory


def fetch_chunks(conn: Connection, query: sa.Select[Any]) -> Iterator[list[tuple[Any, ...]]]:
    """Like :func:`fetch_rows`, in chunks of FETCH_CHUNK rows."""
    if conn.dialect.name != "sqlite":
        rows = fetch_rows(conn, query)
        for start in range(0, len(rows), FETCH_CHUNK):
            yield rows[start : start + FETCH_CHUNK]
        return
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    args = tuple(params[name] for name in (compiled.positiontup or ()))
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), args)
        while rows := cursor.fetchmany(FETCH_CHUNK):
            yield rows
    finally:
        cursor.close()


def _columns(code: int, rows: list[tuple[Any, ...]]) -> TimelineData:
    n = len(rows)

    def col(k: int, dtype: type[np.generic]) -> np.ndarray:
        return np.fromiter(map(itemgetter(k), rows), dtype=dtype, count=n)

    amount = col(4, np.float64)
    amount[amount < 0] = np.nan
    label = np.empty(n, dtype=object)
    label[:] = list(map(itemgetter(7), rows))
    return TimelineData(
        record_type=np.full(n, code, dtype=np.int8),
        record_id=col(0, np.int64),
        start=col(1, np.float64),
        end=col(2, np.float64),
        precision=col(3, np.int8),
        amount_usd=amount,
        sector_id=col(5, np.int32),
        country_id=col(6, np.int32),
        label=label,
    )


def timeline(
    conn: Connection,
    start_day: int | None = None,
    end_day: int | None = None,
    types: Iterable[str] = TIMELINE_TYPES,
    filters: Filters | None = None,
) -> TimelineData:
    """Dated records overlapping [start_day, end_day] (open ends when None) that pass ``filters``."""
    # Read in one go, joined once at the end: no count first (half the statements to compile
    # at start-up, and faster on large data than filling counted columns).
    parts = [
        _columns(TYPE_CODE[name], rows)
        for name, query in _timeline_queries(conn, start_day, end_day, types, filters)
        for rows in fetch_chunks(conn, query)
    ]
    if not parts:
        return TimelineData.empty()
    if len(parts) == 1:
        return parts[0]
    return TimelineData(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(TimelineData)})


def _timeline_queries(
    conn: Connection,
    start_day: int | None,
    end_day: int | None,
    types: Iterable[str],
    filters: Filters | None,
) -> list[tuple[str, sa.Select[Any]]]:
    t = tables()
    queries: list[tuple[str, sa.Select[Any]]] = []
    for name, query in _timeline_selects().items():
        if name not in types:
            continue
        table = _table(name)
        query = query.where(table.c.start_day.is_not(None))
        if end_day is not None:
            query = query.where(table.c.start_day <= end_day)
        if start_day is not None:
            query = query.where(sa.func.coalesce(table.c.end_day, table.c.start_day) >= start_day)
        if filters is not None:
            query = query.where(*record_conditions(name, filters, conn.dialect.name, t))
        queries.append((name, query))
    return queries


def timeline_so_far(
    conn: Connection,
    start_day: int | None = None,
    end_day: int | None = None,
    types: Iterable[str] = TIMELINE_TYPES,
    filters: Filters | None = None,
) -> Iterator[TimelineData]:
    """:func:`timeline` as it is read: after each chunk of rows, the records read so far.

    The columns are allocated once at their final size (counted first, in the same
    transaction) and filled in place; what is yielded are views of them, so showing a
    partly loaded timeline and finishing it copies nothing.
    """
    queries = _timeline_queries(conn, start_day, end_day, types, filters)
    total = sum(
        int(conn.execute(sa.select(sa.func.count()).select_from(q.subquery())).scalar() or 0) for _name, q in queries
    )
    empty = TimelineData.empty()
    columns = {f.name: np.empty(total, dtype=getattr(empty, f.name).dtype) for f in fields(TimelineData)}
    filled = 0
    yielded = False
    for name, query in queries:
        for rows in fetch_chunks(conn, query):
            part = _columns(TYPE_CODE[name], rows)
            n = len(part)
            if filled + n > len(columns["record_id"]):  # rows added since the count (not on SQLite)
                columns = {k: np.concatenate([v[:filled], np.empty(n, v.dtype)]) for k, v in columns.items()}
            for key, column in columns.items():
                column[filled : filled + n] = getattr(part, key)
            filled += n
            yielded = True
            yield TimelineData(**{k: v[:filled] for k, v in columns.items()})
    if not yielded:
        yield TimelineData(**{k: v[:0] for k, v in columns.items()})


def timeline_rows(conn: Connection, record_type: str, record_ids: Sequence[int]) -> TimelineData:
    """The timeline columns of these records of one type (those that exist and are dated)."""
    table = _table(record_type)
    query = _timeline_selects()[record_type].where(table.c.start_day.is_not(None), _id_in(conn, table.c.id, record_ids))
    return _columns(TYPE_CODE[record_type], fetch_rows(conn, query))


def label_qualifiers(conn: Connection, record_type: str, record_ids: Sequence[int]) -> dict[int, str]:
    """What tells records of the same title apart on the timeline: a deal's place (else its
    first organisation), an event's place, a pledge's pledging country. Records with none are left out."""
    table = _table(record_type)
    pla, cty = _table("place"), _table("country")
    if record_type == "deal":
        org, do = _table("organisation"), m.DealOrganisation.__table__
        first_org = (
            sa.select(sa.func.min(org.c.name))
            .select_from(do.join(org, org.c.id == do.c.organisation_id))
            .where(do.c.deal_id == table.c.id)
            .scalar_subquery()
        )
        query = sa.select(table.c.id, sa.func.coalesce(pla.c.name, first_org)).select_from(
            table.outerjoin(pla, pla.c.id == table.c.place_id)
        )
    elif record_type == "event":
        query = sa.select(table.c.id, pla.c.name).select_from(table.join(pla, pla.c.id == table.c.place_id))
    elif record_type == "pledge":
        query = sa.select(table.c.id, cty.c.name).select_from(table.join(cty, cty.c.id == table.c.pledger_id))
    else:
        return {}
    rows = fetch_rows(conn, query.where(_id_in(conn, table.c.id, record_ids)))
    return {int(rid): str(name) for rid, name in rows if name}


def passing_ids(conn: Connection, filters: Filters, types: Iterable[str] = TIMELINE_TYPES) -> dict[str, np.ndarray]:
    """ids (sorted int64) of each record type passing ``filters``: views mask cached columns with them."""
    out: dict[str, np.ndarray] = {}
    t = tables()
    for name in types:
        table = _table(name)
        query = sa.select(table.c.id).where(*record_conditions(name, filters, conn.dialect.name, t))
        rows = fetch_rows(conn, query)
        ids = np.fromiter(map(itemgetter(0), rows), dtype=np.int64, count=len(rows))
        ids.sort()
        out[name] = ids
    return out


# --- sector → organisation tree ---------------------------------------------------------


@dataclass
class SectorNode:
    id: int
    name: str
    parent_id: int | None
    deal_count: int = 0  # deals in this sector and its sub-sectors
    total_usd: float = 0.0
    # Organisations listed under it: exact under filters (they decide what is pruned); without
    # filters only those whose own sector it is — partners of its deals show in deal_count, and
    # counting them distinctly costs seconds at a million deals for a figure no view shows.
    organisation_count: int = 0
    children: list[SectorNode] = field(default_factory=list)


class OrganisationRow(NamedTuple):  # tens of thousands at a time: a tuple is made 3× faster
    id: int
    name: str
    country: str
    sector_id: int
    deal_count: int
    total_usd: float


class OrganisationListing(Sequence[OrganisationRow]):
    """A sector's organisation rows in the tree's order, each made when it is read: a big sector
    lists tens of thousands, of which the tree shows a hundred at a time (making every row took
    ~10 ms of a filter's ~45 at a million records). Slices are views of the same columns; a row
    written into one (a rename shown in rows not yet shown) is kept by it and by the slices
    taken of it afterwards."""

    __slots__ = ("_columns", "_edited", "_start", "_stop")

    def __init__(
        self,
        ids: np.ndarray,
        names: np.ndarray,
        countries: np.ndarray,
        sector_id: int,
        counts: np.ndarray,
        totals: np.ndarray,
    ) -> None:
        self._columns = (ids, names, countries, sector_id, counts, totals)
        self._start, self._stop = 0, int(ids.size)
        self._edited: dict[int, OrganisationRow] = {}

    def _view(self, start: int, stop: int, edited: dict[int, OrganisationRow]) -> OrganisationListing:
        out = OrganisationListing.__new__(OrganisationListing)
        out._columns, out._start, out._stop, out._edited = self._columns, start, stop, edited
        return out

    def copy(self) -> OrganisationListing:
        """The same rows, with edits of their own from now on."""
        return self._view(self._start, self._stop, dict(self._edited))

    @property
    def record_ids(self) -> np.ndarray:
        """The rows' organisation ids, in order (a view: not to be written)."""
        ids: np.ndarray = self._columns[0][self._start : self._stop]
        return ids

    def __len__(self) -> int:
        return self._stop - self._start

    def _rows(self, start: int, stop: int) -> list[OrganisationRow]:
        ids, names, countries, sector_id, counts, totals = self._columns
        # tuple.__new__ straight from C: OrganisationRow._make is a Python call per row
        rows: list[OrganisationRow] = list(
            map(
                tuple.__new__,
                itertools.repeat(OrganisationRow),
                zip(
                    ids[start:stop].tolist(),
                    names[start:stop].tolist(),
                    countries[start:stop].tolist(),
                    itertools.repeat(sector_id),
                    counts[start:stop].tolist(),
                    totals[start:stop].tolist(),
                ),
            )
        )
        for at, row in self._edited.items():
            if start <= at < stop:
                rows[at - start] = row
        return rows

    @overload
    def __getitem__(self, k: int) -> OrganisationRow: ...
    @overload
    def __getitem__(self, k: slice) -> OrganisationListing: ...
    def __getitem__(self, k: int | slice) -> OrganisationRow | OrganisationListing:
        if isinstance(k, slice):
            start, stop, step = k.indices(len(self))
            if step != 1:
                raise ValueError("a listing is sliced in steps of one")
            return self._view(self._start + start, self._start + max(start, stop), self._edited)
        at = k + len(self) if k < 0 else k
        if not 0 <= at < len(self):
            raise IndexError(k)
        return self._rows(self._start + at, self._start + at + 1)[0]

    def __setitem__(self, k: int, row: OrganisationRow) -> None:
        at = k + len(self) if k < 0 else k
        if not 0 <= at < len(self):
            raise IndexError(k)
        self._edited[self._start + at] = row

    def __iter__(self) -> Iterator[OrganisationRow]:
        return iter(self._rows(self._start, self._stop))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]  # mutable, like a list

    def __repr__(self) -> str:
        return f"<OrganisationListing of {len(self)} rows>"


@dataclass(frozen=True, slots=True)  # tens of thousands at a time under a broad filter
class DealRow:
    id: int
    title: str
    country: str
    amount_usd: float | None
    start_day: int | None


class DealYear(NamedTuple):
    """The deals of a group starting in one year (-1: undated), and their USD total."""

    year: int
    ids: np.ndarray
    total_usd: float


def deals_by_year(ids: np.ndarray, days: np.ndarray, amounts: np.ndarray) -> list[DealYear]:
    """Deals ``ids`` (with start days, NaN undated, and USD amounts, 0 none) by the year they
    start, undated first then year by year."""
    years = np.full(ids.size, -1, dtype=np.int64)
    dated = ~np.isnan(days)
    on = days[dated].astype(np.int64).astype("datetime64[D]")
    years[dated] = on.astype("datetime64[Y]").astype(np.int64) + 1970
    order = np.argsort(years, kind="stable")
    cuts = np.flatnonzero(np.diff(years[order])) + 1
    return [
        DealYear(int(years[part[0]]), ids[part], float(amounts[part].sum()))
        for part in np.split(order, cuts)
        if part.size
    ]


def year_of_day(day: float | None) -> int:
    """The year a day number falls in (-1: no day), as ``deals_by_year`` groups it."""
    return -1 if day is None else m.day_to_date(int(day)).year


def deal_years_of_rows(rows: Sequence[DealRow]) -> list[DealYear]:
    """``deals_by_year`` of deal rows read whole."""
    return deals_by_year(
        np.fromiter((r.id for r in rows), dtype=np.int64, count=len(rows)),
        np.fromiter((np.nan if r.start_day is None else r.start_day for r in rows), dtype=np.float64, count=len(rows)),
        np.fromiter((r.amount_usd or 0.0 for r in rows), dtype=np.float64, count=len(rows)),
    )


def sector_hierarchy(conn: Connection) -> list[tuple[int, str, int | None]]:
    sec = _table("sector")
    rows = conn.execute(sa.select(sec.c.id, sec.c.name, sec.c.parent_id).order_by(sa.func.lower(sec.c.name)))
    return [(int(i), str(n), None if p is None else int(p)) for i, n, p in rows]


def sector_ids_with_descendants(conn: Connection, sector_ids: Iterable[int]) -> frozenset[int]:
    sec = _table("sector")
    children: dict[int | None, list[int]] = defaultdict(list)
    for sid, parent in conn.execute(sa.select(sec.c.id, sec.c.parent_id)):
        children[parent].append(sid)
    out: set[int] = set()
    stack = list(sector_ids)
    while stack:
        sid = stack.pop()
        if sid in out:
            continue
        out.add(sid)
        stack.extend(children.get(sid, ()))
    return frozenset(out)


def sector_tree(conn: Connection, filters: Filters | None = None) -> list[SectorNode]:
    """Top-level sectors with sub-sectors; counts and USD totals roll up to parents.

    A deal counts once per sector however many organisations share it. Under active
    filters only passing deals count, and sectors left with no organisation are dropped.
    """
    filters = filters or Filters()
    dialect = conn.dialect.name
    sec, de, do = _table("sector"), _table("deal"), m.DealOrganisation.__table__
    org = _table("organisation")
    direct = conn.execute(
        sa.select(de.c.sector_id, sa.func.count(de.c.id), sa.func.coalesce(sa.func.sum(de.c.amount_usd), 0.0))
        .where(de.c.sector_id.is_not(None), *deal_conditions(filters, dialect))
        .group_by(de.c.sector_id)
    ).all()
    hierarchy = [
        (int(i), str(n), None if p is None else int(p))
        for i, n, p in conn.execute(sa.select(sec.c.id, sec.c.name, sec.c.parent_id))
    ]
    if filters.active:
        pairs = _organisation_sector_pairs(conn, filters, de, do, org)
        return assemble_sector_tree(hierarchy, direct, pairs, prune=True)
    own = conn.execute(
        sa.select(org.c.sector_id, sa.func.count(org.c.id))
        .where(org.c.sector_id.is_not(None))
        .group_by(org.c.sector_id)
    ).all()
    return assemble_sector_tree(hierarchy, direct, [], prune=False, own_counts={int(s): int(n) for s, n in own})


def assemble_sector_tree(
    hierarchy: Iterable[tuple[int, str, int | None]],
    direct: Iterable[tuple[int, int, float]],
    organisation_sectors: Iterable[tuple[int, int]],
    *,
    prune: bool,
    own_counts: dict[int, int] | None = None,
    listed_counts: dict[int, int] | None = None,
) -> list[SectorNode]:
    """The sector tree from (sector, deal count, USD) per sector and (organisation, sector) pairs
    (or, unfiltered, organisations per own sector — each has one, so they simply add up; or
    ``listed_counts``, the distinct organisations listed in each sector and those below it,
    counted by the caller): counts and totals roll up to parents; ``prune`` drops sectors left
    with nothing."""
    nodes = {sid: SectorNode(sid, name, parent) for sid, name, parent in hierarchy}
    org_sets: dict[int, set[int]] = defaultdict(set)
    for org_id, sid in organisation_sectors:
        org_sets[sid].add(org_id)
    for sid, count, total in direct:
        if sid in nodes:
            nodes[sid].deal_count = int(count)
            nodes[sid].total_usd = float(total)
    roots: list[SectorNode] = []
    for node in nodes.values():
        parent = nodes.get(node.parent_id) if node.parent_id is not None else None
        (parent.children if parent else roots).append(node)

    def roll_up(node: SectorNode) -> set[int]:
        orgs = set(org_sets.get(node.id, ()))
        own = (own_counts or {}).get(node.id, 0)
        for child in node.children:
            orgs |= roll_up(child)
            own += child.organisation_count if own_counts is not None else 0
            node.deal_count += child.deal_count
            node.total_usd += child.total_usd
        node.children.sort(key=lambda n: n.name.lower())
        node.organisation_count = len(orgs) + own if listed_counts is None else listed_counts.get(node.id, 0)
        return orgs

    for root in roots:
        roll_up(root)
    if prune:
        roots = _prune(roots)
    roots.sort(key=lambda n: n.name.lower())
    return roots


def _prune(nodes: list[SectorNode]) -> list[SectorNode]:
    kept = []
    for node in nodes:
        node.children = _prune(node.children)
        if node.organisation_count or node.deal_count or node.children:
            kept.append(node)
    return kept


def _organisation_sector_pairs(
    conn: Connection, filters: Filters, de: sa.Table, do: sa.Table, org: sa.Table
) -> list[tuple[int, int]]:
    dialect = conn.dialect.name
    via_deals = (
        sa.select(do.c.organisation_id, de.c.sector_id)
        .join(de, de.c.id == do.c.deal_id)
        .where(de.c.sector_id.is_not(None), *deal_conditions(filters, dialect))
    )
    own = sa.select(org.c.id, org.c.sector_id).where(
        org.c.sector_id.is_not(None), *record_conditions("organisation", filters, dialect)
    )
    return [(int(a), int(b)) for a, b in conn.execute(sa.union(via_deals, own))]


def organisations_in_sector(conn: Connection, sector_id: int, filters: Filters | None = None) -> list[OrganisationRow]:
    """Organisations with a deal in this sector (or whose own sector it is), with that
    sector's deal counts and totals only (passing deals only, under filters)."""
    filters = filters or Filters()
    dialect = conn.dialect.name
    de, do = _table("deal"), m.DealOrganisation.__table__
    org, cty = _table("organisation"), _table("country")
    deal_stats = (
        sa.select(
            do.c.organisation_id.label("org_id"),
            sa.func.count(de.c.id).label("n"),
            sa.func.coalesce(sa.func.sum(de.c.amount_usd), 0.0).label("total"),
        )
        .join(de, de.c.id == do.c.deal_id)
        .where(de.c.sector_id == sector_id, *deal_conditions(filters, dialect))
        .group_by(do.c.organisation_id)
        .subquery()
    )
    query = (
        sa.select(
            org.c.id,
            org.c.name,
            sa.func.coalesce(cty.c.name, ""),
            sa.func.coalesce(deal_stats.c.n, 0),
            sa.func.coalesce(deal_stats.c.total, 0.0),
        )
        .select_from(org)
        .outerjoin(deal_stats, deal_stats.c.org_id == org.c.id)
        .outerjoin(cty, cty.c.id == org.c.country_id)
        .where(
            sa.or_(
                deal_stats.c.org_id.is_not(None),
                sa.and_(org.c.sector_id == sector_id, *record_conditions("organisation", filters, dialect)),
            )
        )
        .order_by(sa.func.lower(org.c.name))
    )
    return in_tree_order(
        [OrganisationRow(int(i), n, c, sector_id, int(k), float(t)) for i, n, c, k, t in conn.execute(query)]
    )


def in_tree_order(rows: list[OrganisationRow]) -> list[OrganisationRow]:
    """A sector's organisations in the tree's default order, largest total first, then by name
    (descending, as a descending sort on (total, name) gives): the tree keeps this order
    without sorting thousands of rows again (sector_tree.ROWS_ORDER)."""
    rows.sort(key=lambda r: (r.total_usd, r.name.lower()), reverse=True)
    return rows


def _deal_rows(
    conn: Connection, *where: sa.ColumnElement[bool], filters: Filters | None, join_organisations: bool = False
) -> list[DealRow]:
    """Deal rows for the tree (id, title, country of its place, USD, day), in date order."""
    de, do, pla, cty = _table("deal"), m.DealOrganisation.__table__, _table("place"), _table("country")
    source = de.join(do, do.c.deal_id == de.c.id) if join_organisations else de
    query = (
        sa.select(de.c.id, de.c.title, sa.func.coalesce(cty.c.name, ""), de.c.amount_usd, de.c.start_day)
        .select_from(source)
        .outerjoin(pla, pla.c.id == de.c.place_id)
        .outerjoin(cty, cty.c.id == pla.c.country_id)
        .where(*where)
        .order_by(de.c.start_day, de.c.title)
    )
    if filters is not None:
        query = query.where(*deal_conditions(filters, conn.dialect.name))
    return [DealRow(int(i), t, c, a, d) for i, t, c, a, d in conn.execute(query)]


def deals_of_organisation(
    conn: Connection, organisation_id: int, sector_id: int | None, filters: Filters | None = None
) -> list[DealRow]:
    de, do = _table("deal"), m.DealOrganisation.__table__
    where = [do.c.organisation_id == organisation_id]
    if sector_id is not None:
        where.append(de.c.sector_id == sector_id)
    return _deal_rows(conn, *where, filters=filters, join_organisations=True)


# --- one record with everything linked to it --------------------------------------------


@dataclass(frozen=True)
class Link:
    relation: str  # e.g. "announced at", "partner", "supersedes"
    record_type: str
    record_id: int
    label: str


@dataclass(frozen=True)
class CitationView:
    source_id: int
    source_title: str
    source_kind: str
    section: str | None
    note: str | None


@dataclass(frozen=True)
class HistoryEntry:
    at: str
    user: str
    action: str
    field: str | None
    old_value: str | None
    new_value: str | None


@dataclass
class RecordDetail:
    record_type: str
    record: m.Record
    links: list[Link]
    citations: list[CitationView]
    history: list[HistoryEntry]
    related: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return record_label(self.record)


def record_label(record: m.Record) -> str:
    for attr in ("title", "name"):
        value = getattr(record, attr, None)
        if value:
            return str(value)
    return f"{type(record).__name__} {record.id}"


def get(session: Session, record_type: str, record_id: int) -> m.Record:
    cls = m.RECORD_TYPES.get(record_type)
    if cls is None:
        raise RecordNotFoundError(f"Unknown record type {record_type!r}.")
    record = session.get(cls, record_id)
    if record is None:
        raise RecordNotFoundError(f"{schema.label(record_type)} {record_id} no longer exists.")
    return record


def _label_of(session: Session, record_type: str, record_id: int | None) -> Link | None:
    if record_id is None:
        return None
    record = session.get(m.RECORD_TYPES[record_type], record_id)
    return None if record is None else Link("", record_type, record_id, record_label(record))


# Per relation, the detail pane lists at most this many records (a sector at a million
# deals would otherwise load tens of thousands of rows for one click).
LINK_LIMIT = 1000


def _labelled(cls: type[m.Record]) -> tuple[Any, Any]:
    """The id and label columns of a record type: reading a thousand linked records whole (a
    big organisation's deals) made a thousand model objects, ~25 ms, for their labels."""
    table = cls.__table__.c
    label = next((table[attr] for attr in ("title", "name") if attr in table), sa.literal(None))
    return table["id"], label


def _limited(session: Session, query: Any) -> list[Any]:
    return list(session.exec(query.limit(LINK_LIMIT)).all())


def links_of(session: Session, record_type: str, record: Any) -> list[Link]:
    """Every record this one points at, and every record pointing at it, typed."""
    links: list[Link] = []

    def add(relation: str, rtype: str, rid: int | None) -> None:
        link = _label_of(session, rtype, rid)
        if link is not None:
            links.append(Link(relation, rtype, link.record_id, link.label))

    def add_all(relation: str, rtype: str, rows: Iterable[Any]) -> None:
        name = m.RECORD_TYPES[rtype].__name__
        for row_id, label in rows:  # (id, title or name), as record_label gives it
            links.append(Link(relation, rtype, row_id, str(label) if label else f"{name} {row_id}"))

    rid = record.id
    kind = schema.kind(record_type)
    # Many-to-many links first (a deal's organisations, by role; an event's participants) …
    for link in kind.links:
        target = m.RECORD_TYPES[link.target]
        columns: list[Any] = [target]
        if link.roles:
            columns.append(link.table.role)  # type: ignore[attr-defined]
        rows = _limited(
            session,
            select(*columns)
            .join(link.table, getattr(link.table, link.target_key) == target.id)
            .where(getattr(link.table, link.own_key) == rid)
            .order_by(getattr(target, link.target_order)),
        )
        for row in rows:
            other, relation = (row[0], row[1]) if link.roles else (row, link.relation)
            links.append(Link(relation, link.target, other.id, record_label(other)))
    # … then what this record points at, in the order of its fields …
    for fs in kind.fields:
        if fs.kind == "ref" and fs.ref is not None:
            add(fs.relation, fs.ref, getattr(record, fs.name))
    # … then what points at it, and what it is linked to from the other side.
    for other in schema.kinds():
        for fs in other.fields:
            if fs.kind == "ref" and fs.ref == record_type and fs.inverse:
                cls = other.model
                rows = _limited(session, select(*_labelled(cls)).where(getattr(cls, fs.name) == rid))
                add_all(fs.inverse, other.name, rows)
        for link in other.links:
            if link.target == record_type and link.inverse:
                cls = other.model
                rows = _limited(
                    session,
                    select(*_labelled(cls))
                    .join(link.table, getattr(link.table, link.own_key) == cls.id)
                    .where(getattr(link.table, link.target_key) == rid)
                    .order_by(cls.__table__.c["start_day" if other.dated else "id"]),
                )
                add_all(link.inverse, other.name, rows)
    if record_type == "source":
        # What rests on this source: every record citing it (one line per record).
        seen: set[tuple[str, int]] = set()
        for cite in _limited(
            session, select(m.Citation).where(m.Citation.source_id == rid).order_by(col(m.Citation.id))
        ):
            key = (cite.record_type, cite.record_id)
            if key not in seen and cite.record_type in m.RECORD_TYPES:
                seen.add(key)
                add("cited by", cite.record_type, cite.record_id)
    return links


def citations_of(session: Session, record_type: str, record_id: int) -> list[CitationView]:
    rows = session.exec(
        select(m.Citation, m.Source)
        .join(m.Source, col(m.Source.id) == m.Citation.source_id)
        .where(m.Citation.record_type == record_type, m.Citation.record_id == record_id)
        .order_by(col(m.Citation.id))
    ).all()
    return [CitationView(m.stored_id(s.id), s.title, s.kind, c.section, c.note) for c, s in rows]


def _local_time(value: dt.datetime) -> str:
    """Change times are stored in UTC; people read them in their own time zone."""
    if getattr(value, "tzinfo", None) is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def history_of(session: Session, record_type: str, record_id: int) -> list[HistoryEntry]:
    rows = session.exec(
        select(m.ChangeLog)
        .where(m.ChangeLog.record_type == record_type, m.ChangeLog.record_id == record_id)
        .order_by(col(m.ChangeLog.id))
    ).all()
    return [HistoryEntry(_local_time(r.at), r.user, r.action, r.field, r.old_value, r.new_value) for r in rows]


# A pledge's detail adds these up (its realised figures): a write to any of them changes it.
PLEDGE_DETAIL_READS = frozenset({"pledge", "deal"})


def links_kept(changes: Sequence[Change]) -> bool:
    """Whether these changes left every record's links as they were: updates with known fields,
    none of them a reference, a list of links or a citation. (A linked record's name or date may
    have changed: how the links to it read, and their order.)"""
    for c in changes:
        if c.action != "update" or not c.fields or c.record_type == "citation":
            return False
        kind = schema.KINDS.get(c.record_type)
        if kind is None:
            return False
        for name in c.fields:
            spec = kind.field(name)
            if spec is None or spec.kind == "ref":
                return False  # a list of links (participants, partners, sources) or a reference
    return True


def detail(session: Session, record_type: str, record_id: int, links: list[Link] | None = None) -> RecordDetail:
    """The record with its links, sources and history; ``links``: its links as read before a
    write that left them as they were (see links_kept), not read again."""
    record = get(session, record_type, record_id)
    related: dict[str, Any] = {}
    if isinstance(record, m.Pledge):
        related["realised"] = pledge_progress(session, record)
    return RecordDetail(
        record_type=record_type,
        record=record,
        links=links_of(session, record_type, record) if links is None else links,
        citations=citations_of(session, record_type, record_id),
        history=history_of(session, record_type, record_id),
        related=related,
    )


# --- pledged against realised: explorer/store/pledges.py (re-exported for the views) ------------

PledgeProgress = pledges.PledgeProgress
pledge_progress = pledges.pledge_progress


def events_between(conn: Connection, start_day: int, end_day: int) -> list[tuple[int, str]]:
    """Events overlapping the range, in date order: (id, title)."""
    ev = _table("event")
    query = (
        sa.select(ev.c.id, ev.c.title)
        .where(ev.c.start_day <= end_day)
        .where(sa.func.coalesce(ev.c.end_day, ev.c.start_day) >= start_day)
        .order_by(ev.c.start_day, ev.c.id)
    )
    return [(int(i), t) for i, t in conn.execute(query)]


def deal_placement(conn: Connection, deal_id: int) -> tuple[int | None, list[int]]:
    """Where a deal sits in the sector tree: its sector and its organisations."""
    de, do = _table("deal"), m.DealOrganisation.__table__
    row = conn.execute(sa.select(de.c.sector_id).where(de.c.id == deal_id)).first()
    orgs = [
        int(r[0])
        for r in conn.execute(
            sa.select(do.c.organisation_id).where(do.c.deal_id == deal_id).order_by(do.c.organisation_id)
        )
    ]
    return (None if row is None or row[0] is None else int(row[0])), orgs


def organisation_sectors(conn: Connection, organisation_id: int) -> list[int]:
    """Sectors an organisation is listed under in the tree: its own first, then its deals'."""
    de, do, org = _table("deal"), m.DealOrganisation.__table__, _table("organisation")
    own = conn.execute(sa.select(org.c.sector_id).where(org.c.id == organisation_id)).scalar()
    via = [
        int(r[0])
        for r in conn.execute(
            sa.select(de.c.sector_id)
            .distinct()
            .join(do, do.c.deal_id == de.c.id)
            .where(do.c.organisation_id == organisation_id, de.c.sector_id.is_not(None))
        )
    ]
    out = [int(own)] if own is not None else []
    out += [s for s in sorted(via) if s not in out]
    return out


def unattributed_deals(conn: Connection, sector_id: int, filters: Filters | None = None) -> list[DealRow]:
    """Deals in a sector with no organisation recorded (the tree lists them on their own)."""
    de, do = _table("deal"), m.DealOrganisation.__table__
    return _deal_rows(conn, de.c.sector_id == sector_id, ~sa.exists().where(do.c.deal_id == de.c.id), filters=filters)


def unattributed_summary(conn: Connection, sector_id: int, filters: Filters | None = None) -> tuple[int, float]:
    """How many deals of a sector have no organisation, and their USD total (the tree's group
    row shows these; the deals themselves are read when the group is opened)."""
    de, do = _table("deal"), m.DealOrganisation.__table__
    query = sa.select(sa.func.count(de.c.id), sa.func.coalesce(sa.func.sum(de.c.amount_usd), 0.0)).where(
        de.c.sector_id == sector_id, ~sa.exists().where(do.c.deal_id == de.c.id)
    )
    if filters is not None:
        query = query.where(*deal_conditions(filters, conn.dialect.name))
    count, total = conn.execute(query).one()
    return int(count or 0), float(total or 0.0)


def _id_in(conn: Connection, column: sa.ColumnElement[Any], ids: Sequence[int]) -> sa.ColumnElement[bool]:
    """``column IN ids`` for thousands of ids: on SQLite one JSON parameter (an expanded IN list
    of 5,000 parameters costs SQLAlchemy more to compile than SQLite takes to answer)."""
    if conn.dialect.name == "sqlite":
        return column.in_(
            sa.select(sa.column("value")).select_from(
                sa.func.json_each(sa.bindparam("ids", json.dumps([int(i) for i in ids])))
            )
        )
    return column.in_([int(i) for i in ids])


def deal_rows_by_id(conn: Connection, deal_ids: Sequence[int]) -> list[DealRow]:
    """Tree rows of these deals, in date order (no filter: the caller knows they pass)."""
    de = _table("deal")
    return _deal_rows(conn, _id_in(conn, de.c.id, deal_ids), filters=None) if len(deal_ids) else []


def organisation_names(conn: Connection, organisation_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """id → (name, country name) for these organisations."""
    if not len(organisation_ids):
        return {}
    org, cty = _table("organisation"), _table("country")
    query = (
        sa.select(org.c.id, org.c.name, sa.func.coalesce(cty.c.name, ""))
        .outerjoin(cty, cty.c.id == org.c.country_id)
        .where(_id_in(conn, org.c.id, organisation_ids))
    )
    return {int(i): (n, c) for i, n, c in fetch_rows(conn, query)}
