"""FilterScope: what passes a set of filters, worked out once and shared by every view.

Under a filter the timeline needs the passing ids of each record type and the sector tree
needs counts, totals and member lists per sector. Asking SQL per tree node re-evaluates the
full-text match for every node (seconds at a million records); here the passing deals come
back in one query with their sector, amount and organisations, and the tree's aggregates are
numpy group-bys over those columns. Names and deal rows are read only for what is opened.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import sqlalchemy as sa

from explorer.store import queries, scope_index
from explorer.store.filtering import Filters, deal_conditions, record_conditions, tables

if TYPE_CHECKING:
    from explorer.store import Store


class ScopeCancelledError(Exception):
    """The scope was no longer wanted (a newer filter superseded it, or the user cancelled)."""


@dataclass
class FilterScope:
    filters: Filters
    ids: dict[str, np.ndarray]  # sorted passing ids per timeline type
    timeline_ids: dict[str, np.ndarray] | None  # the same with the date range left out (None: all pass)
    sectors: list[queries.SectorNode]
    # per passing (organisation, sector) pair via deals: parallel arrays, sorted by (sector, org)
    pair_org: np.ndarray
    pair_sector: np.ndarray
    pair_count: np.ndarray
    pair_total: np.ndarray
    # passing organisations listed under their own sector (maybe with no passing deal there),
    # sorted by (sector, org)
    own_org: np.ndarray
    own_sector: np.ndarray
    # one row per (deal, organisation) of passing deals; organisation -1 when it has none
    link_deal: np.ndarray
    link_sector: np.ndarray
    link_org: np.ndarray
    link_amount: np.ndarray
    _store: Store | None = None
    revision: int = 0  # the store's revision it was worked out at (AppState drops it after)
    extras: dict[str, Any] = field(default_factory=dict)  # what views prepared with it (AppState)
    _names: dict[int, tuple[str, str]] = field(default_factory=dict)
    _organisations: dict[int, queries.OrganisationListing] = field(default_factory=dict)
    _deals: dict[int, queries.DealRow] = field(default_factory=dict)
    _organisation_ids: dict[int, np.ndarray] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- the sector tree's questions, answered like the store answers them unfiltered ------

    def sector_tree(self) -> list[queries.SectorNode]:
        return self.sectors

    def organisation_ids_in_sector(self, sector_id: int) -> np.ndarray:
        # kept: the tree asks for every sector's on each change of filters (40 set unions)
        with self._lock:
            found = self._organisation_ids.get(sector_id)
        if found is None:
            lo, hi = np.searchsorted(self.pair_sector, [sector_id, sector_id + 1])
            own_lo, own_hi = np.searchsorted(self.own_sector, [sector_id, sector_id + 1])
            found = _union_of_sorted([self.pair_org[lo:hi], self.own_org[own_lo:own_hi]])
            found.flags.writeable = False  # shared by every caller
            with self._lock:
                self._organisation_ids[sector_id] = found
        return found

    def organisations_in_sector(self, sector_id: int) -> queries.OrganisationListing:
        with self._lock:
            cached = self._organisations.get(sector_id)
        if cached is None:
            cached = self._organisation_rows(sector_id)
            with self._lock:
                self._organisations[sector_id] = cached
        return cached.copy()  # the caller's edits stay its own

    def _organisation_rows(self, sector_id: int) -> queries.OrganisationListing:
        ids = self.organisation_ids_in_sector(sector_id)
        if not ids.size:
            none = np.zeros(0, dtype=object)
            return queries.OrganisationListing(ids, none, none, sector_id, ids, np.zeros(0))
        # each listed organisation's deals and total here (pairs are sorted by organisation
        # within a sector; one listed only as its own sector's has none)
        lo, hi = np.searchsorted(self.pair_sector, [sector_id, sector_id + 1])
        at = np.searchsorted(ids, self.pair_org[lo:hi])
        counts = np.zeros(ids.size, dtype=np.int64)
        totals = np.zeros(ids.size, dtype=np.float64)
        counts[at], totals[at] = self.pair_count[lo:hi], self.pair_total[lo:hi]
        names, countries = self.names(ids)
        order = _in_tree_order(totals, names)
        return queries.OrganisationListing(
            ids[order], names[order], countries[order], sector_id, counts[order], totals[order]
        )

    def names(self, organisation_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Names and country names of organisations, in their order (object arrays): from the
        store's index; one it does not know yet (or every one, with no index: the SQL path) by
        SQL, kept for the scope's life."""
        ids = organisation_ids
        if self._store is None:
            return scope_index.unknown_names(ids.size)[1:]
        known, names, countries = scope_index.organisation_names(self._store, ids)
        if not known.all():
            missing = ids[~known].tolist()
            with self._lock:
                todo = [i for i in missing if i not in self._names]
            if todo:
                found = self._store.organisation_names(todo)
                with self._lock:
                    self._names.update(found)
            with self._lock:
                got = [self._names.get(i, ("", "")) for i in missing]
            names[~known] = [n for n, _c in got]
            countries[~known] = [c for _n, c in got]
        return names, countries

    def _links_of(self, organisation_id: int | None, sector_id: int | None) -> np.ndarray:
        """Which link rows are an organisation's (None: deals without one), in a sector (None: any)."""
        mask: np.ndarray = self.link_org == (-1 if organisation_id is None else organisation_id)
        if sector_id is not None:
            mask &= self.link_sector == sector_id
        return mask

    def deal_ids(self, organisation_id: int, sector_id: int | None) -> np.ndarray:
        return np.unique(self.link_deal[self._links_of(organisation_id, sector_id)])

    def unattributed_summary(self, sector_id: int) -> tuple[int, float]:
        """How many deals of a sector have no organisation, and their USD total."""
        mask = self._links_of(None, sector_id)
        return int(np.count_nonzero(mask)), float(self.link_amount[mask].sum())

    def unattributed_deals(self, sector_id: int) -> list[queries.DealRow]:
        return self._rows(np.unique(self.link_deal[self._links_of(None, sector_id)]))

    def deals_of_organisation(self, organisation_id: int, sector_id: int | None = None) -> list[queries.DealRow]:
        return self._rows(self.deal_ids(organisation_id, sector_id))

    def deal_years(self, organisation_id: int | None, sector_id: int) -> list[queries.DealYear] | None:
        """An organisation's passing deals in a sector (None: the sector's deals without one) by
        the year they start; None when the store's index does not know their days yet."""
        mask = self._links_of(organisation_id, sector_id)
        ids, first = np.unique(self.link_deal[mask], return_index=True)
        days = None if self._store is None else scope_index.deal_start_days(self._store, ids)
        if days is None:
            return None
        return queries.deals_by_year(ids, days, self.link_amount[mask][first])

    def deal_rows(self, deal_ids: np.ndarray) -> list[queries.DealRow]:
        """Rows of passing deals, in the store's order (by date, undated first, then title)."""
        return self._rows(deal_ids)

    def deals_of_organisations(
        self, pairs: list[tuple[int, int | None]]
    ) -> dict[tuple[int, int | None], list[queries.DealRow]]:
        """Deal rows of several (organisation, sector) pairs with one read."""
        wanted = {pair: self.deal_ids(*pair) for pair in pairs}
        every = np.unique(np.concatenate(list(wanted.values()))) if wanted else np.zeros(0, np.int64)
        by_id = {r.id: r for r in self._rows(every)}
        return {pair: [by_id[int(i)] for i in ids.tolist() if int(i) in by_id] for pair, ids in wanted.items()}

    def _rows(self, deal_ids: np.ndarray) -> list[queries.DealRow]:
        if deal_ids.size == 0 or self._store is None:
            return []
        with self._lock:
            known = {i: self._deals[i] for i in deal_ids.tolist() if i in self._deals}
        missing = [i for i in deal_ids.tolist() if i not in known]
        if missing:
            fetched = self._store.deal_rows(missing)
            with self._lock:
                self._deals.update((r.id, r) for r in fetched)
            known.update((r.id, r) for r in fetched)
        # the store's order: by date (undated first), then title
        return sorted(known.values(), key=lambda r: (r.start_day is not None, r.start_day or 0, r.title))

    @property
    def organisation_count(self) -> int:
        return int(np.union1d(self.pair_org, self.own_org).size)


class PassingIds(NamedTuple):
    """What passes, as soon as it is known and before the tree's aggregates (build_scope's
    ``on_passing``): a view can start on its part of the result beside them."""

    filters: Filters
    timeline_ids: dict[str, np.ndarray] | None  # as FilterScope.timeline_ids


def build_scope(
    store: Store,
    filters: Filters,
    cancelled: Callable[[], bool] = lambda: False,
    on_passing: Callable[[PassingIds], None] | None = None,
) -> FilterScope:
    """Everything the views need to show ``filters``: a handful of queries, no per-node SQL."""

    def check() -> None:
        if cancelled():
            raise ScopeCancelledError

    revision = store.revision  # before reading: a write meanwhile makes the scope out of date
    with store.engine.connect() as conn:
        dialect = conn.dialect.name
        hierarchy = queries.sector_hierarchy(conn)
        fast = scope_index.passing(store, conn, filters) if dialect == "sqlite" else None
        if fast is not None:
            ids = fast.ids
            timeline_ids = fast.timeline_ids
            link_deal, link_sector = fast.link_deal, fast.link_sector
            link_amount, link_org = fast.link_amount, fast.link_org
            own_org, own_sector = fast.own_org, fast.own_sector
        else:
            ids, timeline_ids, link, own = _from_sql(conn, filters, check)
            link_deal = link[:, 0].astype(np.int64)
            link_sector = link[:, 1].astype(np.int64)
            link_amount = link[:, 2]
            link_org = link[:, 3].astype(np.int64)
            own_arr = np.array(own, dtype=np.int64).reshape(-1, 2)
            own_org, own_sector = own_arr[:, 0], own_arr[:, 1]
    check()
    dateless = replace(filters, start_day=None, end_day=None)
    deal_ids, first = _first_of_each(link_deal)
    ids["deal"] = deal_ids
    if dateless == filters:
        timeline_ids = ids
    if on_passing is not None:
        on_passing(PassingIds(filters, timeline_ids))
    by_sector = np.argsort(own_sector, kind="stable")  # organisations come by id
    if by_sector.size and not np.all(own_org[1:] > own_org[:-1]):  # (not by the SQL path)
        by_sector = np.lexsort((own_org, own_sector))
    own_org, own_sector = own_org[by_sector], own_sector[by_sector]

    # one row per deal for sector counts and totals (a deal counts once however many partners)
    deal_sector, deal_amount = link_sector[first], link_amount[first]
    in_sector = deal_sector >= 0
    direct = _per_sector(deal_sector[in_sector], deal_amount[in_sector])

    # per (sector, organisation): deals and totals, for the organisation rows
    has = (link_org >= 0) & (link_sector >= 0)
    pair_sector, pair_org, pair_count, pair_total = _per_pair(link_sector[has], link_org[has], link_amount[has])

    scope = FilterScope(
        filters=filters,
        ids=ids,
        sectors=[],
        timeline_ids=timeline_ids,
        pair_org=pair_org,
        pair_sector=pair_sector,
        pair_count=pair_count.astype(np.int64),
        pair_total=pair_total,
        own_org=own_org,
        own_sector=own_sector,
        link_deal=link_deal,
        link_sector=link_sector,
        link_org=link_org,
        link_amount=link_amount,
        _store=store,
        revision=revision,
    )
    counted = _listed_counts(hierarchy, scope.organisation_ids_in_sector)  # also sizes every listing
    tree = scope.sectors = queries.assemble_sector_tree(
        hierarchy, direct, [], prune=filters.active, listed_counts=counted
    )
    check()
    # The listings the tree opens by itself, read here (off the GUI thread): under a filter it
    # opens every sector with sub-sectors, and leaf sectors while their rows stay few
    # (views.tree EXPAND_ROWS), then the deals of their first organisations. Every sector's
    # listing at a million records is ~0.3 s of names and rows for sectors nobody opened; one
    # opened by hand is read when it is.
    listed, budget = [], LISTED_ROWS_PREFETCHED
    stack = list(reversed(tree))
    while stack:
        node = stack.pop()
        stack += reversed(node.children)
        size = scope.organisation_ids_in_sector(node.id).size
        if size == 0 or size > (NAMES_PREFETCHED if node.children else budget):
            continue
        if not node.children:
            budget -= size
        listed.append(node.id)
    if listed and fast is None:  # their names in one read (the index has them at hand)
        scope.names(np.unique(np.concatenate([scope.organisation_ids_in_sector(i) for i in listed])))
    check()
    pairs = []  # (sector << 32 | organisation) of each listing's first organisations
    for sector_id in listed:
        rows = scope.organisations_in_sector(sector_id)
        pairs += [sector_id << 32 | r.id for r in rows[:DEALS_OF_FIRST]]
    deals = np.zeros(0, dtype=np.int64)
    if pairs:  # their deals in one pass over the links (a pass per organisation took ~0.4 ms)
        wanted = np.unique(np.array(pairs, dtype=np.int64))
        deals = np.unique(link_deal[_isin_sorted(link_sector << 32 | link_org, wanted)])
    if deals.size <= DEALS_PREFETCHED:
        scope._rows(deals)
    return scope


def _in_tree_order(totals: np.ndarray, names: np.ndarray) -> np.ndarray:
    """The positions of a listing's rows in queries.in_tree_order's order: total, then name
    (case left out), descending; ties as listed. Sorted by total in numpy, then every row of a
    tie by name in one sort (a Python key sort of tens of thousands of rows takes ~50 ms; one
    per tied group, ~3 ms at the biggest sector)."""
    order = np.argsort(-totals, kind="stable")
    ranked = totals[order]
    tie = ranked[1:] == ranked[:-1]
    if not tie.any():
        return order
    in_tie = np.r_[tie, False] | np.r_[False, tie]  # rows that share their total with a neighbour
    at = np.flatnonzero(in_tie)
    group = np.cumsum(np.r_[True, ~tie])[at]  # which run of equal totals each belongs to
    tied = order[at]
    lowered = [name.lower() for name in names[tied].tolist()]
    by_name = np.array(sorted(range(len(lowered)), key=lowered.__getitem__, reverse=True), dtype=np.int64)
    order[at] = tied[by_name[np.argsort(group[by_name], kind="stable")]]
    return order


def _union_of_sorted(parts: list[np.ndarray]) -> np.ndarray:
    """The sorted distinct values of sorted arrays of distinct values (np.union1d, but merged:
    a stable sort finds the sorted runs, where union1d sorts or hashes everything again)."""
    parts = [a for a in parts if a.size]
    if len(parts) <= 1:
        return parts[0] if parts else np.zeros(0, dtype=np.int64)
    every = np.concatenate(parts)
    every.sort(kind="stable")
    return every[np.r_[True, every[1:] != every[:-1]]]


def _sums_by(keys: np.ndarray, amount: np.ndarray, table_below: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(distinct key, how many, total amount) per distinct non-negative key, by key: counted into
    a table when every key is below ``table_below``, else by sorting the keys."""
    if keys.size and int(keys.max()) < table_below:
        count = np.bincount(keys)
        total = np.bincount(keys, weights=amount, minlength=count.size)
        found = np.flatnonzero(count)
        return found, count[found], total[found]
    distinct, inverse = np.unique(keys, return_inverse=True)
    return (
        distinct,
        np.bincount(inverse, minlength=distinct.size),
        np.bincount(inverse, weights=amount, minlength=distinct.size),
    )


def _per_sector(sector: np.ndarray, amount: np.ndarray) -> list[tuple[int, int, float]]:
    """(sector, deals, total) of each sector among deals' ``sector`` and ``amount`` (sector ids
    are small as usual: counted in place, not sorted)."""
    sectors, counts, totals = _sums_by(sector, amount, 1_000_000)
    return [(int(s), int(n), float(v)) for s, n, v in zip(sectors, counts, totals, strict=True)]


def _isin_sorted(values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """np.isin for a few sorted ``wanted`` among many ``values``: one binary search each (for
    (sector << 32 | organisation) keys, where scope_index._isin's table would span the keys)."""
    at = np.minimum(np.searchsorted(wanted, values), wanted.size - 1)
    found: np.ndarray = wanted[at] == values
    return found


def _per_pair(
    sector: np.ndarray, organisation: np.ndarray, amount: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(sector, organisation, links, total) per distinct (sector, organisation) pair of links,
    sorted by sector then organisation. Counted into a table of every pair when it is not much
    bigger than the links (a filter of a few sectors: ~12 → ~3 ms at a big sector's 130,000
    links), else by sorting the pairs."""
    if not sector.size:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, np.zeros(0)
    width = int(organisation.max()) + 1
    if int(sector.max()) < 1_000_000:
        used = np.flatnonzero(np.bincount(sector))
        rank = np.zeros(int(used[-1]) + 1, dtype=np.int64)
        rank[used] = np.arange(used.size)
        cells, count, total = _sums_by(rank[sector] * width + organisation, amount, max(8 * sector.size, 1 << 20))
        return used[cells // width], cells % width, count, total
    keys, count, total = _sums_by(sector << 32 | organisation, amount, 0)
    return keys >> 32, keys & 0xFFFFFFFF, count, total


def _first_of_each(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(values, return_index=True), without the sort when ``values`` is sorted already
    (the index's links come by deal: ~8 ms of sorting at a big sector's 130,000 links)."""
    if values.size and bool(np.all(values[1:] >= values[:-1])):
        first = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
        return values[first], first
    found: tuple[np.ndarray, np.ndarray] = np.unique(values, return_index=True)
    return found


def _listed_counts(
    hierarchy: list[tuple[int, str, int | None]], listed_in: Callable[[int], np.ndarray]
) -> dict[int, int]:
    """Per sector: the distinct organisations listed in it or in a sector below it, from each
    sector's listing (``listed_in``; a set per sector of a Python int per organisation took
    ~30 ms for a big sector's 100,000 pairs)."""
    below: dict[int | None, list[int]] = {}
    for sector_id, _name, parent in hierarchy:
        below.setdefault(parent, []).append(sector_id)

    def subtree(sector_id: int) -> list[int]:
        out = [sector_id]
        for child in below.get(sector_id, []):
            out += subtree(child)
        return out

    counts: dict[int, int] = {}
    for sector_id, _name, _parent in hierarchy:
        every = [listed_in(s) for s in subtree(sector_id)]
        counts[sector_id] = int(_union_of_sorted(every).size)
    return counts


def _from_sql(
    conn: sa.Connection, filters: Filters, check: Callable[[], None]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None, np.ndarray, list[tuple[Any, ...]]]:
    """What passes, asked of SQL (text without a word long enough for the trigram index, or
    a server): passing ids of the other types, those with the dates left out, the deal links
    (deal, sector, amount, organisation) and the organisations under their own sector."""
    t = tables()
    de, do, org = t["deal"], t["dealorganisation"], t["organisation"]
    dialect = conn.dialect.name
    # In chunks straight into arrays: a broad filter passes a million links, and as Python
    # tuples all at once they would take several hundred MB.
    parts = [np.zeros((0, 4))]
    for chunk in queries.fetch_chunks(
        conn,
        sa.select(
            de.c.id,
            sa.func.coalesce(de.c.sector_id, -1),
            sa.func.coalesce(de.c.amount_usd, 0.0),
            sa.func.coalesce(do.c.organisation_id, -1),
        )
        .select_from(de.outerjoin(do, do.c.deal_id == de.c.id))
        .where(*deal_conditions(filters, dialect, t)),
    ):
        parts.append(np.array(chunk, dtype=np.float64).reshape(-1, 4))
        del chunk
        check()
    link = np.concatenate(parts)
    del parts
    other = [name for name in queries.TIMELINE_TYPES if name != "deal"]
    ids = queries.passing_ids(conn, filters, other)
    check()
    # The timeline masks dates itself (it draws the chosen range over everything else).
    dateless = replace(filters, start_day=None, end_day=None)
    timeline_ids = None
    if dateless != filters and dateless.active:
        timeline_ids = queries.passing_ids(conn, dateless)
        check()
    own = queries.fetch_rows(
        conn,
        sa.select(org.c.id, org.c.sector_id).where(
            org.c.sector_id.is_not(None), *record_conditions("organisation", filters, dialect, t)
        ),
    )
    return ids, timeline_ids, link, own


DEALS_OF_FIRST = 3  # organisations per sector whose deals are read ahead
DEALS_PREFETCHED = 5_000
LISTED_ROWS_PREFETCHED = 400  # organisation rows of leaf sectors read ahead (the tree opens up to 150)
NAMES_PREFETCHED = 60_000  # … and of a sector with sub-sectors, unless it lists more
