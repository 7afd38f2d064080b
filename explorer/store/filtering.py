"""The global filters as SQL conditions, so every view asks the database the same question.

A record passes when it passes every active filter:
- sectors: deals and initiatives in the sectors (sub-sectors included); organisations with a
  deal in them (or whose own sector it is); events and pledges that a passing deal was signed
  at or filed under; targets of a passing initiative.
- countries: events at a place in the country, pledges from or to it, deals at a place in it or
  with an organisation from it, organisations from it. Initiatives and targets belong to the
  partnership as a whole and pass only when no country filter is set.
- date range: dated records overlapping it; organisations with a deal overlapping it.
- text: records whose name or notes contain every word; organisations also when one of their
  deals matches, deals also when one of their organisations matches.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from explorer import models as m
from explorer.store.search import MIN_TRIGRAM, _escape_like

if TYPE_CHECKING:
    from explorer.store.changes import Change

T = dict[str, sa.Table]


@dataclass(frozen=True)
class Filters:
    """The global filters every view applies."""

    sector_ids: frozenset[int] = frozenset()  # already expanded to sub-sectors
    country_ids: frozenset[int] = frozenset()
    start_day: int | None = None
    end_day: int | None = None
    text: str = ""

    @property
    def active(self) -> bool:
        return bool(
            self.sector_ids or self.country_ids or self.text or self.start_day is not None or self.end_day is not None
        )


# Fields no filter but the words looks at: a record's sectors, countries (places, pledgers,
# organisations), dates and links decide what passes the others.
FILTER_NEUTRAL_FIELDS = frozenset(
    {
        "title", "name", "notes", "kind", "status", "summit_number", "value", "unit",
        "amount", "currency", "usd_rate", "rate_date", "amount_usd", "version", "updated_at",
    }
)  # fmt: skip


def passing_unchanged(filters: Filters, changes: Iterable[Change]) -> bool:
    """Whether ``changes`` leave every record passing ``filters`` or not as it was: edits of
    fields no filter looks at (a title, an amount), with no words to match (words match names,
    notes, kinds and statuses). A view then takes the new values into what it shows instead of
    working out again what passes."""
    if filters.text:
        return False
    return all(c.action == "update" and bool(c.fields) and FILTER_NEUTRAL_FIELDS.issuperset(c.fields) for c in changes)


def tables() -> T:
    names = ("event", "pledge", "deal", "initiative", "target", "organisation", "place", "sector")
    out: T = {n: m.RECORD_TYPES[n].__table__ for n in names}
    out["dealorganisation"] = m.DealOrganisation.__table__
    return out


def text_ids(record_type: str, text: str, dialect: str) -> sa.Select[Any] | None:
    """ids of one record type whose indexed text contains every word of ``text``."""
    words = [w for w in text.split() if w]
    if not words:
        return None
    index = sa.table(
        "search_index", sa.column("record_type"), sa.column("record_id"), sa.column("title"), sa.column("body")
    )
    query = sa.select(index.c.record_id).where(index.c.record_type == record_type)
    if dialect == "sqlite" and all(len(w) >= MIN_TRIGRAM for w in words):
        phrase = " ".join('"' + w.replace('"', '""') + '"' for w in words)
        return query.where(sa.text("search_index MATCH :fts_q").bindparams(fts_q=phrase))
    for word in words:
        pattern = f"%{_escape_like(word.lower())}%"
        query = query.where(
            sa.or_(
                sa.func.lower(index.c.title).like(pattern, escape="\\"),
                sa.func.lower(index.c.body).like(pattern, escape="\\"),
            )
        )
    return query


def _overlaps(table: sa.Table, f: Filters) -> list[sa.ColumnElement[bool]]:
    out: list[sa.ColumnElement[bool]] = []
    if f.start_day is not None or f.end_day is not None:
        out.append(table.c.start_day.is_not(None))
    if f.end_day is not None:
        out.append(table.c.start_day <= f.end_day)
    if f.start_day is not None:
        out.append(sa.func.coalesce(table.c.end_day, table.c.start_day) >= f.start_day)
    return out


def deal_conditions(f: Filters, dialect: str, t: T | None = None) -> list[sa.ColumnElement[bool]]:
    t = t or tables()
    de, do, org, pla = t["deal"], t["dealorganisation"], t["organisation"], t["place"]
    conds = _overlaps(de, f)
    if f.sector_ids:
        conds.append(de.c.sector_id.in_(sorted(f.sector_ids)))
    if f.country_ids:
        ids = sorted(f.country_ids)
        conds.append(
            sa.or_(
                de.c.place_id.in_(sa.select(pla.c.id).where(pla.c.country_id.in_(ids))),
                de.c.id.in_(
                    sa.select(do.c.deal_id).join(org, org.c.id == do.c.organisation_id).where(org.c.country_id.in_(ids))
                ),
            )
        )
    if f.text:
        own = text_ids("deal", f.text, dialect)
        via_org = text_ids("organisation", f.text, dialect)
        assert own is not None and via_org is not None
        conds.append(
            sa.or_(
                de.c.id.in_(own),
                de.c.id.in_(sa.select(do.c.deal_id).where(do.c.organisation_id.in_(via_org))),
            )
        )
    return conds


def _passing_deals(f: Filters, dialect: str, t: T) -> sa.Select[Any]:
    return sa.select(t["deal"].c.id).where(*deal_conditions(f, dialect, t))


def record_conditions(record_type: str, f: Filters, dialect: str, t: T | None = None) -> list[sa.ColumnElement[bool]]:
    """WHERE conditions for one record type under the filters (empty list: all pass)."""
    t = t or tables()
    if not f.active:
        return []
    if record_type == "deal":
        return deal_conditions(f, dialect, t)
    table = t[record_type]
    conds: list[sa.ColumnElement[bool]] = []
    if record_type in ("event", "pledge", "initiative", "target"):
        conds += _overlaps(table, f)
    if record_type == "organisation":
        if f.start_day is not None or f.end_day is not None or f.sector_ids:
            deal_f = Filters(sector_ids=f.sector_ids, start_day=f.start_day, end_day=f.end_day)
            with_deal = table.c.id.in_(
                sa.select(t["dealorganisation"].c.organisation_id).where(
                    t["dealorganisation"].c.deal_id.in_(_passing_deals(deal_f, dialect, t))
                )
            )
            if f.sector_ids and f.start_day is None and f.end_day is None:
                conds.append(sa.or_(with_deal, table.c.sector_id.in_(sorted(f.sector_ids))))
            else:
                conds.append(with_deal)
        if f.country_ids:
            conds.append(table.c.country_id.in_(sorted(f.country_ids)))
        if f.text:
            own = text_ids("organisation", f.text, dialect)
            deals = text_ids("deal", f.text, dialect)
            assert own is not None and deals is not None
            do = t["dealorganisation"]
            conds.append(
                sa.or_(
                    table.c.id.in_(own),
                    table.c.id.in_(sa.select(do.c.organisation_id).where(do.c.deal_id.in_(deals))),
                )
            )
        return conds
    if f.sector_ids:
        sectors = sorted(f.sector_ids)
        if record_type == "initiative":
            conds.append(table.c.sector_id.in_(sectors))
        elif record_type == "target":
            conds.append(
                table.c.initiative_id.in_(
                    sa.select(t["initiative"].c.id).where(t["initiative"].c.sector_id.in_(sectors))
                )
            )
        else:  # events and pledges: through the deals signed at or filed under them
            column = t["deal"].c.event_id if record_type == "event" else t["deal"].c.pledge_id
            sector_deals = sa.select(column).where(t["deal"].c.sector_id.in_(sectors), column.is_not(None))
            conds.append(table.c.id.in_(sector_deals))
    if f.country_ids:
        ids = sorted(f.country_ids)
        if record_type == "event":
            conds.append(table.c.place_id.in_(sa.select(t["place"].c.id).where(t["place"].c.country_id.in_(ids))))
        elif record_type == "pledge":
            conds.append(sa.or_(table.c.pledger_id.in_(ids), table.c.recipient_id.in_(ids)))
        else:
            conds.append(sa.false())
    if f.text:
        own = text_ids(record_type, f.text, dialect)
        assert own is not None
        conds.append(table.c.id.in_(own))
    return conds
