"""ScopeIndex: the columns filters look at, kept in memory so a scope is numpy work, not SQL.

At a million records the joined deal/organisation query alone takes a third of a second, and
each filtered record type another query; a keystroke's result must show within 100 ms. The
index reads those columns once (on the background thread, with the first filter) and answers
``Filters`` with masks over them. The full-text match still runs in SQLite, but asks only for
the index's rowids (no content read: ~10 ms where reading types and ids took ~100), which a
rowid → (type, id) map kept here turns into ids.

Kept right from change events: a save that changes none of the columns kept (a title, notes, a
name) keeps the arrays; it drops the text map's rows of the records it touched, which are read
again by rowid when a match returns them (the full-text index gave them new rowids). Any other
change, or a revision whose events are not known, reads the arrays again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from explorer.store.filtering import Filters
from explorer.store.search import INDEXED, MIN_TRIGRAM, _escape_like

if TYPE_CHECKING:
    from explorer.store import Store
    from explorer.store.changes import ChangeEvent

# Types whose columns are kept.
KEPT_TYPES = frozenset({"deal", "dealorganisation", "organisation", "event", "pledge", "initiative", "target", "place"})
# Fields a filter never reads: an update touching only these keeps the arrays (anything else,
# a link among them, reads them again).
TEXT_FIELDS = frozenset({"title", "name", "notes", "kind", "status", "unit", "role", "native_name", "publisher"})
TEXT_TYPES: tuple[str, ...] = tuple(INDEXED)
TEXT_CODE = {name: code for code, name in enumerate(TEXT_TYPES)}
LOOKUP_CHUNK = 500


DEAL_SQL = (
    "d.id, d.sector_id, d.amount_usd, d.start_day, coalesce(d.end_day, d.start_day), "
    "d.event_id, d.pledge_id, p.country_id FROM deal d LEFT JOIN place p ON p.id = d.place_id"
)
ORGANISATION_SQL = "o.id, o.sector_id, o.country_id, o.name FROM organisation o"
OTHER_SQL = {
    "event": "e.id, e.start_day, e.end_day, p.country_id FROM event e LEFT JOIN place p ON p.id = e.place_id",
    "pledge": "e.id, e.start_day, e.end_day, e.pledger_id, e.recipient_id FROM pledge e",
    "initiative": "e.id, e.start_day, e.end_day, e.sector_id FROM initiative e",
    "target": (
        "e.id, e.start_day, e.end_day, i.sector_id FROM target e LEFT JOIN initiative i ON i.id = e.initiative_id"
    ),
}
ID_COLUMN = {"deal": "d.id", "organisation": "o.id", **dict.fromkeys(OTHER_SQL, "e.id")}
PATCHED_AT_MOST = 200  # records re-read into the arrays after writes; more: read it all again


def _f(values: list[object]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _i(values: list[object]) -> np.ndarray:
    return np.array([-1 if v is None else v for v in values], dtype=np.int64)


@dataclass
class Dated:
    """One record type's ids (sorted) with start and end days (NaN: undated) and one key column."""

    ids: np.ndarray
    start: np.ndarray
    end: np.ndarray
    key: np.ndarray  # event: country; pledge: pledger; initiative, target: sector; -1 none
    key2: np.ndarray | None = None  # pledge: recipient

    def overlaps(self, f: Filters) -> np.ndarray:
        return _overlaps(self.start, self.end, f)


def _overlaps(start: np.ndarray, end: np.ndarray, f: Filters) -> np.ndarray:
    ok = np.ones(start.shape[0], dtype=bool)
    if f.start_day is None and f.end_day is None:
        return ok
    with np.errstate(invalid="ignore"):
        ok &= ~np.isnan(start)
        if f.end_day is not None:
            ok &= start <= f.end_day
        if f.start_day is not None:
            ok &= end >= f.start_day
    return ok


def _isin(values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """``np.isin`` for ids (never negative; -1 stands for none in ``values``) by a lookup table:
    a few ms over a million values, where sorting them takes tens."""
    if values.size == 0 or wanted.size == 0:
        return np.zeros(values.shape[0], dtype=bool)
    # one slot more than the largest wanted id, never set: -1 and larger ids look it up
    table = np.zeros(int(wanted.max()) + 2, dtype=bool)
    table[wanted] = True
    found: np.ndarray = table[np.minimum(values, table.size - 1)]
    return found


def _rows(conn: Connection, sql: str) -> list[tuple[Any, ...]]:
    """Plain tuples straight from SQLite's cursor (a million Row objects would cost seconds)."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        rows: list[tuple[Any, ...]] = cursor.execute("SELECT " + sql).fetchall()
        return rows
    finally:
        cursor.close()


def unknown_names(count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(known, name, country name) of ``count`` organisations nothing is known of."""
    return np.zeros(count, dtype=bool), np.full(count, "", dtype=object), np.full(count, "", dtype=object)


def _strings(values: Any) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _deal_columns(rows: list[tuple[Any, ...]]) -> tuple[np.ndarray, ...]:
    """id, sector, USD amount (0 when none), start, end, event, pledge, country of deal rows."""
    cols: list[Any] = list(zip(*rows, strict=True)) if rows else [()] * 8
    amount = _f(list(cols[2]))
    return (
        np.array(cols[0], dtype=np.int64),
        _i(list(cols[1])),
        np.where(np.isnan(amount), 0.0, amount),
        _f(list(cols[3])),
        _f(list(cols[4])),
        _i(list(cols[5])),
        _i(list(cols[6])),
        _i(list(cols[7])),
    )


def _fields(d: Dated) -> list[np.ndarray]:
    return [d.ids, d.start, d.end, d.key, d.key if d.key2 is None else d.key2]


def _dated(conn: Connection, sql: str) -> Dated:
    return _dated_rows(_rows(conn, sql))


def _dated_rows(rows: list[tuple[Any, ...]]) -> Dated:
    cols: list[Any] = list(zip(*rows, strict=True)) if rows else [()] * 5
    start = _f(list(cols[1]))
    end = _f(list(cols[2]))
    end = np.where(np.isnan(end), start, end)
    return Dated(
        ids=np.array(cols[0], dtype=np.int64),
        start=start,
        end=end,
        key=_i(list(cols[3])),
        key2=_i(list(cols[4])) if len(cols) > 4 else None,
    )


class ScopeIndex:
    """The filtered columns of every record type a scope counts, in memory (see the module)."""

    def __init__(self, store: Store) -> None:
        self.revision = store.revision  # before reading: a write meanwhile is caught up after
        self._memo: dict[Any, np.ndarray] | None = None  # during passing(): see _once
        with store.engine.connect() as conn:
            self._read(conn)
            self._read_text(conn)

    def _read(self, conn: Connection) -> None:
        deal = _rows(conn, DEAL_SQL + " ORDER BY d.id")
        self._set_deals(*_deal_columns(deal))
        del deal
        org = _rows(conn, ORGANISATION_SQL + " ORDER BY o.id")
        ocols: list[Any] = list(zip(*org, strict=True)) if org else [()] * 4
        self.o_id = np.array(ocols[0], dtype=np.int64)
        self.o_sector = _i(list(ocols[1]))
        self.o_country = _i(list(ocols[2]))
        # names too: a big sector's listing names 20,000 organisations (~35 ms by SQL); an
        # object array, so a listing's names are one gather, not a dict of 20,000 entries
        self.o_name: np.ndarray = _strings(ocols[3])
        self._read_countries(conn)
        links = np.array(_rows(conn, "deal_id, organisation_id FROM dealorganisation"), dtype=np.int64).reshape(-1, 2)
        pos, opos = self._positions(links)
        # deals without an organisation get one row with none (-1), as the outer join gave
        lonely = np.setdiff1d(np.arange(self.d_id.size), pos)
        pos = np.concatenate([pos, lonely])
        opos = np.concatenate([opos, np.full(lonely.size, -1, dtype=np.int64)])
        order = np.argsort(pos, kind="stable")
        self._set_links(pos[order], opos[order])
        self.other = {name: _dated(conn, sql + " ORDER BY e.id") for name, sql in OTHER_SQL.items()}

    def _read_countries(self, conn: Connection) -> None:
        rows = sorted((int(i), str(n)) for i, n in _rows(conn, "id, name FROM country"))
        # sorted ids and their names, one spare "" last: an organisation with no (known) country
        # is looked up there
        self.c_id = np.array([i for i, _n in rows], dtype=np.int64)
        self.c_name = _strings([n for _i, n in rows] + [""])

    def _set_deals(self, *columns: np.ndarray) -> None:
        (self.d_id, self.d_sector, self.d_amount, self.d_start, self.d_end, self.d_event, self.d_pledge,
         self.d_country) = columns  # fmt: skip

    def _positions(self, links: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(deal position, organisation position) of (deal id, organisation id) rows known to the index."""
        pos = np.searchsorted(self.d_id, links[:, 0])
        opos = np.searchsorted(self.o_id, links[:, 1])
        ok = (pos < self.d_id.size) & (opos < self.o_id.size)
        ok[ok] &= (self.d_id[pos[ok]] == links[ok, 0]) & (self.o_id[opos[ok]] == links[ok, 1])
        return pos[ok], opos[ok]

    def _set_links(self, pos: np.ndarray, opos: np.ndarray) -> None:
        self.l_pos, self.l_opos = pos, opos
        self.l_has = opos >= 0  # the link names an organisation
        self.l_org = (
            np.where(opos >= 0, self.o_id[np.maximum(opos, 0)], -1) if self.o_id.size else np.full_like(pos, -1)
        )

    def _read_text(self, conn: Connection) -> None:
        rows = _rows(conn, "rowid, record_type, record_id FROM search_index")
        size = max((int(r[0]) for r in rows), default=0) + 1
        self.t_type = np.full(size, -1, dtype=np.int8)
        self.t_id = np.full(size, -1, dtype=np.int64)
        if rows:
            rowid = np.array([r[0] for r in rows], dtype=np.int64)
            self.t_type[rowid] = [TEXT_CODE.get(r[1], -1) for r in rows]
            self.t_id[rowid] = [int(r[2]) for r in rows]

    # --- keeping it right ---------------------------------------------------------------

    def catch_up(self, store: Store) -> bool:
        """Take in the events since it was read; False when it must be read again."""
        if store.revision == self.revision:
            return True
        events = store.events_since(self.revision)
        if events is None:
            return False
        changed = self.still_right(events)
        if changed is None:
            return False
        if changed:
            with store.engine.connect() as conn:
                if not self._patch(conn, changed):
                    return False
        self.revision = max(self.revision, max((e.revision for e in events), default=self.revision))
        return True

    def still_right(self, events: list[ChangeEvent]) -> dict[str, set[int]] | None:
        """Drop the text rows of what the events touched; the records whose kept columns may have
        changed, to be read again (None: too many, or a deletion or place: read it all again)."""
        touched: dict[int, list[int]] = {}
        changed: dict[str, set[int]] = {}
        for event in events:
            for c in event.changes:
                if c.record_type == "country":  # its name shows beside organisations' names
                    changed.setdefault("country", set()).add(c.record_id)
                if c.record_type in KEPT_TYPES and (
                    c.action != "update"
                    or not c.fields
                    or not TEXT_FIELDS.issuperset(c.fields)
                    or (c.record_type == "organisation" and "name" in c.fields)
                ):
                    if c.action == "delete" or c.record_type not in ID_COLUMN:
                        return None
                    changed.setdefault(c.record_type, set()).add(c.record_id)
                code = TEXT_CODE.get(c.record_type)
                if code is not None:
                    touched.setdefault(code, []).append(c.record_id)
        if sum(len(ids) for ids in changed.values()) > PATCHED_AT_MOST:
            return None
        for code, ids in touched.items():
            stale = (self.t_type == code) & _isin(self.t_id, np.array(ids, dtype=np.int64))
            self.t_type[stale] = -1
            self.t_id[stale] = -1
        return changed

    def _patch(self, conn: Connection, changed: dict[str, set[int]]) -> bool:
        """Read the changed records' columns again into the arrays (a new record, newer than every
        one known, is added at the end); False when that cannot be done in place."""

        def read(name: str, sql: str) -> list[tuple[Any, ...]]:
            ids = ",".join(str(int(i)) for i in sorted(changed[name]))
            return _rows(conn, f"{sql} WHERE {ID_COLUMN[name]} IN ({ids}) ORDER BY {ID_COLUMN[name]}")

        if changed.pop("country", None):
            self._read_countries(conn)
        if "organisation" in changed:
            rows = read("organisation", ORGANISATION_SQL)
            ids = np.array([r[0] for r in rows], dtype=np.int64)
            at, new = self._places(self.o_id, ids)
            if at is None:
                return False
            sector, country = _i([r[1] for r in rows]), _i([r[2] for r in rows])
            self.o_sector[at], self.o_country[at] = sector[~new], country[~new]
            names = self.o_name.copy()  # a new array: a reader meanwhile keeps the one it has
            given = _strings([r[3] for r in rows])
            names[at] = given[~new]
            names = np.concatenate([names, given[new]])
            if new.any():
                self.o_id = np.concatenate([self.o_id, ids[new]])
                self.o_sector = np.concatenate([self.o_sector, sector[new]])
                self.o_country = np.concatenate([self.o_country, country[new]])
            self.o_name = names
        if "target" in changed or "initiative" in changed:  # a target counts under its initiative's sector
            self.other["target"] = _dated(conn, OTHER_SQL["target"] + " ORDER BY e.id")
            changed.pop("target", None)
        for name in ("event", "pledge", "initiative"):
            if name in changed:
                d, rows = self.other[name], read(name, OTHER_SQL[name])
                part = _dated_rows(rows)
                at, new = self._places(d.ids, part.ids)
                if at is None:
                    return False
                d.start[at], d.end[at], d.key[at] = part.start[~new], part.end[~new], part.key[~new]
                if d.key2 is not None and part.key2 is not None:
                    d.key2[at] = part.key2[~new]
                if new.any():
                    self.other[name] = Dated(
                        *(np.concatenate([a, b[new]]) for a, b in zip(_fields(d), _fields(part), strict=True))
                    )
        if "deal" in changed:
            columns = _deal_columns(read("deal", DEAL_SQL))
            ids = columns[0]
            at, new = self._places(self.d_id, ids)
            if at is None:
                return False
            mine = self._deal_arrays()
            for array, values in zip(mine[1:], columns[1:], strict=True):
                array[at] = values[~new]
            if new.any():
                self._set_deals(*(np.concatenate([a, b[new]]) for a, b in zip(mine, columns, strict=True)))
            # their organisations, read again: the rows of each changed deal replaced
            found = ",".join(str(int(i)) for i in ids.tolist())
            links = np.array(
                _rows(conn, f"deal_id, organisation_id FROM dealorganisation WHERE deal_id IN ({found})"),
                dtype=np.int64,
            ).reshape(-1, 2)
            pos, opos = self._positions(links)
            if pos.size != links.shape[0]:
                return False  # an organisation the index does not know
            where = np.searchsorted(self.d_id, ids)
            lonely = np.setdiff1d(where, pos)
            pos = np.concatenate([pos, lonely])
            opos = np.concatenate([opos, np.full(lonely.size, -1, dtype=np.int64)])
            keep = ~_isin(self.l_pos, where)
            all_pos = np.concatenate([self.l_pos[keep], pos])
            all_opos = np.concatenate([self.l_opos[keep], opos])
            order = np.argsort(all_pos, kind="stable")
            self._set_links(all_pos[order], all_opos[order])
        elif "organisation" in changed:
            self._set_links(self.l_pos, self.l_opos)
        return True

    def name_columns(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(known, name, country name) of organisations ``ids``, as arrays in their order ("" where
        the index does not know one)."""
        # read once: a catch-up meanwhile replaces these arrays, it does not change them
        o_id, o_name, o_country, c_id, c_name = self.o_id, self.o_name, self.o_country, self.c_id, self.c_name
        if not ids.size or not o_id.size:
            return unknown_names(ids.size)
        at = np.minimum(np.searchsorted(o_id, ids), o_id.size - 1)
        known = (o_id[at] == ids) & (at < o_name.size) & (at < o_country.size)
        at = np.where(known, at, 0)
        country = o_country[at]
        c_at = np.minimum(np.searchsorted(c_id, country), c_id.size)
        found = c_at < c_id.size
        found[found] = c_id[c_at[found]] == country[found]
        names = np.where(known, o_name[at], "")
        countries = np.where(known, c_name[np.where(found, c_at, c_id.size)], "")
        return known, names, countries

    def start_days(self, ids: np.ndarray) -> np.ndarray | None:
        """Start days of deals ``ids`` (NaN: undated), in their order; None when the index does
        not know one of them."""
        d_id, d_start = self.d_id, self.d_start  # read once, as name_columns
        if not ids.size:
            return np.zeros(0, dtype=np.float64)
        if not d_id.size or d_id.size != d_start.size:
            return None
        at = np.minimum(np.searchsorted(d_id, ids), d_id.size - 1)
        if not (d_id[at] == ids).all():
            return None
        days: np.ndarray = d_start[at]
        return days

    def _deal_arrays(self) -> tuple[np.ndarray, ...]:
        return (self.d_id, self.d_sector, self.d_amount, self.d_start, self.d_end, self.d_event, self.d_pledge,
                self.d_country)  # fmt: skip

    @staticmethod
    def _places(known: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """Positions of ``ids`` among ``known`` (sorted), and which are new; None when a new one
        would not go at the end (or one is gone: it was deleted meanwhile)."""
        at = np.searchsorted(known, ids)
        inside = at < known.size
        found = np.zeros(ids.size, dtype=bool)
        found[inside] = known[at[inside]] == ids[inside]
        new = ~found
        if new.any() and (known.size and int(ids[new].min()) <= int(known[-1])):
            return None, new
        return at[found], new

    # --- answering filters ----------------------------------------------------------------

    def text_ids(self, conn: Connection, text: str) -> dict[str, np.ndarray] | None:
        """Sorted ids per type whose indexed text contains every word; None when no word is
        long enough for the trigram index (the SQL path answers those)."""
        words = [w for w in text.split() if w]
        long = [w for w in words if len(w) >= MIN_TRIGRAM]
        if not long or conn.dialect.name != "sqlite":
            return None
        params: dict[str, object] = {"q": " ".join('"' + w.replace('"', '""') + '"' for w in long)}
        sql = "SELECT rowid FROM search_index WHERE search_index MATCH :q"
        for n, word in enumerate(w for w in words if len(w) < MIN_TRIGRAM):
            params[f"w{n}"] = f"%{_escape_like(word.lower())}%"
            sql += f" AND (lower(title) LIKE :w{n} ESCAPE '\\' OR lower(body) LIKE :w{n} ESCAPE '\\')"
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:  # straight from the driver: tens of thousands of rowids as Row objects cost ~50 ms
            rowids = np.array([r[0] for r in cursor.execute(sql, params).fetchall()], dtype=np.int64)
        finally:
            cursor.close()
        if rowids.size and int(rowids.max()) >= self.t_type.size:  # rows written since: grow the map
            grown = int(rowids.max()) + 1
            self.t_type = np.concatenate([self.t_type, np.full(grown - self.t_type.size, -1, dtype=np.int8)])
            self.t_id = np.concatenate([self.t_id, np.full(grown - self.t_id.size, -1, dtype=np.int64)])
        unknown = rowids[self.t_type[rowids] < 0]
        for start in range(0, unknown.size, LOOKUP_CHUNK):
            chunk = unknown[start : start + LOOKUP_CHUNK].tolist()
            found = conn.execute(
                sa.text(
                    "SELECT rowid, record_type, record_id FROM search_index "
                    f"WHERE rowid IN ({','.join(str(int(i)) for i in chunk)})"
                )
            )
            for rowid, record_type, record_id in found:
                self.t_type[rowid] = TEXT_CODE.get(record_type, -1)
                self.t_id[rowid] = int(record_id)
        codes, ids = self.t_type[rowids], self.t_id[rowids]
        return {name: np.unique(ids[codes == code]) for name, code in TEXT_CODE.items()}

    def _once(self, key: Any, make: Callable[[], np.ndarray]) -> np.ndarray:
        """``make()``, worked out once per ``passing`` call: a filter's parts ask the same of a
        million deals or links several times (a sector's deals: for deals, organisations,
        summits and pledges)."""
        memo = self._memo
        if memo is None:
            return make()
        found = memo.get(key)
        if found is None:
            found = memo[key] = make()
        return found

    def _in_sectors(self, sector_ids: frozenset[int]) -> np.ndarray:
        return self._once(
            ("sectors", sector_ids), lambda: _isin(self.d_sector, np.array(sorted(sector_ids), dtype=np.int64))
        )

    def _links_passing(self, f: Filters, text: dict[str, np.ndarray] | None) -> np.ndarray:
        """Per link: whether its deal passes."""
        return self._once(("links", f), lambda: self.deal_mask(f, text)[self.l_pos])

    def deal_mask(self, f: Filters, text: dict[str, np.ndarray] | None) -> np.ndarray:
        return self._once(("deals", f), lambda: self._deal_mask(f, text))

    def _deal_mask(self, f: Filters, text: dict[str, np.ndarray] | None) -> np.ndarray:
        mask = _overlaps(self.d_start, self.d_end, f)
        if f.sector_ids:
            mask &= self._in_sectors(f.sector_ids)
        if f.country_ids:
            countries = np.array(sorted(f.country_ids), dtype=np.int64)
            by_org = self._deals_of_orgs(_isin(self.o_country, countries))
            mask &= _isin(self.d_country, countries) | by_org
        if f.text:
            assert text is not None
            own = _isin(self.d_id, text["deal"])
            mask &= own | self._deals_of_orgs(_isin(self.o_id, text["organisation"]))
        return mask

    def _deals_of_orgs(self, org_mask: np.ndarray) -> np.ndarray:
        """Per deal: whether one of its organisations is in ``org_mask``."""
        out = np.zeros(self.d_id.size, dtype=bool)
        has = self.l_opos >= 0
        hit = np.zeros(self.l_pos.size, dtype=bool)
        hit[has] = org_mask[self.l_opos[has]]
        out[self.l_pos[hit]] = True
        return out

    def _orgs_of_deals(self, deal_mask: np.ndarray) -> np.ndarray:
        return self._orgs_of_links(deal_mask[self.l_pos])

    def _orgs_of_links(self, link_mask: np.ndarray) -> np.ndarray:
        out = np.zeros(self.o_id.size, dtype=bool)
        out[self.l_opos[link_mask & self.l_has]] = True
        return out

    def organisation_mask(self, f: Filters, text: dict[str, np.ndarray] | None) -> np.ndarray:
        mask = np.ones(self.o_id.size, dtype=bool)
        if not f.active:
            return mask
        if f.start_day is not None or f.end_day is not None or f.sector_ids:
            deal_f = Filters(sector_ids=f.sector_ids, start_day=f.start_day, end_day=f.end_day)
            with_deal = self._orgs_of_links(self._links_passing(deal_f, None))
            if f.sector_ids and f.start_day is None and f.end_day is None:
                with_deal |= _isin(self.o_sector, np.array(sorted(f.sector_ids), dtype=np.int64))
            mask &= with_deal
        if f.country_ids:
            mask &= _isin(self.o_country, np.array(sorted(f.country_ids), dtype=np.int64))
        if f.text:
            assert text is not None
            own = _isin(self.o_id, text["organisation"])
            mask &= own | self._orgs_of_deals(_isin(self.d_id, text["deal"]))
        return mask

    def other_ids(self, name: str, f: Filters, text: dict[str, np.ndarray] | None) -> np.ndarray:
        """Sorted passing ids of an event, pledge, initiative or target type."""
        d = self.other[name]
        if not f.active:
            return d.ids
        mask = d.overlaps(f)
        if f.sector_ids:
            sectors = np.array(sorted(f.sector_ids), dtype=np.int64)
            if name in ("initiative", "target"):
                mask &= _isin(d.key, sectors)
            else:
                column = self.d_event if name == "event" else self.d_pledge
                via = column[self._in_sectors(f.sector_ids) & (column >= 0)]
                mask &= _isin(d.ids, via)
        if f.country_ids:
            countries = np.array(sorted(f.country_ids), dtype=np.int64)
            if name == "event":
                mask &= _isin(d.key, countries)
            elif name == "pledge":
                assert d.key2 is not None
                mask &= _isin(d.key, countries) | _isin(d.key2, countries)
            else:
                mask[:] = False
        if f.text:
            assert text is not None
            mask &= _isin(d.ids, text[name])
        out: np.ndarray = d.ids[mask]
        return out

    def passing(self, conn: Connection, f: Filters) -> Passing | None:
        """What passes ``f``, or None when the text needs the SQL path (no word of 3 letters)."""
        text = self.text_ids(conn, f.text) if f.text else None
        if f.text and text is None:
            return None
        self._memo = {}
        try:
            return self._passing(f, text)
        finally:
            self._memo = None

    def _passing(self, f: Filters, text: dict[str, np.ndarray] | None) -> Passing:
        ids = {name: self.other_ids(name, f, text) for name in self.other}
        dateless = replace(f, start_day=None, end_day=None)
        timeline_ids: dict[str, np.ndarray] | None = None
        if dateless != f and dateless.active:
            timeline_ids = {name: self.other_ids(name, dateless, text) for name in self.other}
            timeline_ids["deal"] = self.d_id[self.deal_mask(dateless, text)]
        orgs = self.organisation_mask(f, text) & (self.o_sector >= 0)
        lm = self._links_passing(f, text)
        lp = self.l_pos[lm]
        return Passing(
            ids=ids,
            timeline_ids=timeline_ids,
            link_deal=self.d_id[lp],
            link_sector=self.d_sector[lp],
            link_amount=self.d_amount[lp],
            link_org=self.l_org[lm],
            own_org=self.o_id[orgs],
            own_sector=self.o_sector[orgs],
        )


@dataclass
class Passing:
    ids: dict[str, np.ndarray]  # the types other than deals
    timeline_ids: dict[str, np.ndarray] | None  # every type with the dates left out (None: as ids)
    link_deal: np.ndarray
    link_sector: np.ndarray
    link_amount: np.ndarray
    link_org: np.ndarray
    own_org: np.ndarray
    own_sector: np.ndarray


_lock = threading.Lock()  # one scope at a time reads and grows the index


def _current(store: Store) -> ScopeIndex:
    index: ScopeIndex | None = getattr(store, "_scope_index", None)
    if index is None or not index.catch_up(store):
        store._scope_index = None  # type: ignore[attr-defined]  # freed before the new one is read
        del index
        index = ScopeIndex(store)
        store._scope_index = index  # type: ignore[attr-defined]
    return index


def prepare(store: Store) -> None:
    """Read the index (or catch it up) now, so the next filter finds it ready (AppState does
    this in the background once the timeline is loaded, and after writes)."""
    with _lock:
        _current(store)


def organisation_names(store: Store, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(known, name, country name) of these organisations as far as the store's index knows them,
    without waiting for it (ScopeIndex.name_columns): one it does not know, or all while it is
    being read, the caller reads by SQL."""
    index: ScopeIndex | None = getattr(store, "_scope_index", None)
    return unknown_names(ids.size) if index is None else index.name_columns(ids)


def deal_start_days(store: Store, ids: np.ndarray) -> np.ndarray | None:
    """Start days of these deals from the store's index, without waiting for it; None when it
    is not read yet or does not know one."""
    index: ScopeIndex | None = getattr(store, "_scope_index", None)
    return None if index is None else index.start_days(ids)


def passing(store: Store, conn: Connection, f: Filters) -> Passing | None:
    """What passes ``f`` from the store's index, caught up with its events first (read again
    when it cannot be); None when the SQL path must answer."""
    with _lock:
        found: Passing | None = _current(store).passing(conn, f)
        return found
