"""Pledged against realised: what each pledge promised, what the deals linked to it add up to.

A deal counts towards a pledge only when it is linked to it (``deal.pledge_id``): a deal links to
at most one pledge, so no deal is counted twice. Deals that merely fall in a pledge's period are
reported apart, as "dated in its period, linked to no pledge", and never added to what it realised.
Amounts are the deals' own USD figures (each at its own rate). No Qt: the detail pane's chart and
the PDF hand-out read the same figures and the same sentences (``describe``).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from explorer import models as m
from explorer.formatting import date_text, money, period_text, usd
from explorer.money import computed_usd


@dataclass(frozen=True)
class DealAmount:
    """One deal as the pledge figures read it."""

    deal_id: int
    title: str
    day: int | None
    date: dt.date | None
    precision: str
    amount: float | None
    currency: str | None
    usd_rate: float | None
    amount_usd: float | None  # its own USD figure (at its own rate); None when it has no amount
    pledge_id: int | None


@dataclass(frozen=True)
class Overlap:
    """Another pledge whose period shares days with this one: the shared stretch, how the two
    relate, and what is linked to the other (counted there, never here)."""

    record_id: int
    label: str
    start_day: int
    end_day: int
    relation: str  # "supersedes", "superseded by" or "overlaps"
    other_realised_usd: float

    record_type: str = "pledge"


@dataclass
class PledgeProgress:
    """One pledge's figures. ``linked`` is every deal linked to it (dated ones in date order, then
    undated); ``days``/``cumulative_usd`` the realised curve (dated linked deals with an amount);
    ``in_period`` the deals dated in its period and linked to no pledge (not counted)."""

    pledge_id: int
    title: str
    pledged_amount: float | None
    currency: str | None
    pledged_usd: float | None
    start_day: int | None
    end_day: int | None
    start_date: dt.date | None
    end_date: dt.date | None
    precision: str
    linked: list[DealAmount] = field(default_factory=list)
    days: list[int] = field(default_factory=list)
    cumulative_usd: list[float] = field(default_factory=list)
    in_period: list[DealAmount] = field(default_factory=list)
    in_period_days: list[int] = field(default_factory=list)
    in_period_cumulative_usd: list[float] = field(default_factory=list)
    overlaps: list[Overlap] = field(default_factory=list)
    shared_deal_ids: list[int] = field(default_factory=list)  # dated in its period, linked to another pledge

    @property
    def deal_ids(self) -> list[int]:
        """The linked deals counted in the realised sum (those with an amount)."""
        return [d.deal_id for d in self.linked if d.amount_usd is not None]

    @property
    def overlapping(self) -> list[Overlap]:
        return self.overlaps

    @property
    def realised_usd(self) -> float:
        return math.fsum(d.amount_usd for d in self.linked if d.amount_usd is not None)

    @property
    def open_usd(self) -> float | None:
        """What is still open of the pledge (never below zero); None when nothing was pledged in USD."""
        if self.pledged_usd is None:
            return None
        return max(self.pledged_usd - self.realised_usd, 0.0)

    @property
    def exceeded_usd(self) -> float:
        if self.pledged_usd is None:
            return 0.0
        return max(self.realised_usd - self.pledged_usd, 0.0)

    @property
    def without_amount(self) -> list[DealAmount]:
        return [d for d in self.linked if d.amount_usd is None]

    @property
    def undated(self) -> list[DealAmount]:
        """Linked deals with an amount but no date: in the sum, not on the curve."""
        return [d for d in self.linked if d.day is None and d.amount_usd is not None]

    @property
    def outside_period(self) -> list[DealAmount]:
        """Linked deals dated before its start or after its end (still counted: the link says so)."""
        return [d for d in self.linked if d.day is not None and not self.in_its_period(d.day)]

    @property
    def in_period_usd(self) -> float:
        return self.in_period_cumulative_usd[-1] if self.in_period_cumulative_usd else 0.0

    def in_its_period(self, day: int) -> bool:
        if self.start_day is None:
            return False
        end = self.end_day if self.end_day is not None else self.start_day  # no end: its start day
        return self.start_day <= day <= end


def deal_usd(deal: m.Deal) -> float | None:
    """A deal's USD figure: as stored (the source's or the rate's), else from its own rate."""
    return _usd(deal.amount_usd, deal.amount, deal.currency, deal.usd_rate)


def _usd(amount_usd: float | None, amount: float | None, currency: str | None, rate: float | None) -> float | None:
    if amount_usd is not None:
        return float(amount_usd)
    return computed_usd(amount, currency, rate)


def _usd_sql(de: sa.Table) -> sa.ColumnElement[Any]:
    """``_usd`` in SQL, to add up many deals where they are."""
    return sa.case(
        (de.c.amount_usd.is_not(None), de.c.amount_usd),
        (de.c.currency == "USD", de.c.amount),
        (de.c.usd_rate > 0, de.c.amount * de.c.usd_rate),
        else_=None,
    )


def _deals(session: Session, *where: sa.ColumnElement[bool]) -> list[DealAmount]:
    """Deals as the figures read them, in date order (undated last); columns only, no objects
    (a pledge's period may hold tens of thousands of deals on a large database)."""
    de = m.Deal.__table__
    query = (
        sa.select(
            de.c.id,
            de.c.title,
            de.c.start_day,
            de.c.start_date,
            de.c.date_precision,
            de.c.amount,
            de.c.currency,
            de.c.usd_rate,
            de.c.amount_usd,
            de.c.pledge_id,
        )
        .where(*where)
        .order_by(de.c.start_day.is_(None), de.c.start_day, de.c.id)
    )
    return [
        DealAmount(
            int(r.id),
            r.title,
            None if r.start_day is None else int(r.start_day),
            r.start_date,
            r.date_precision or "day",
            r.amount,
            r.currency,
            r.usd_rate,
            _usd(r.amount_usd, r.amount, r.currency, r.usd_rate),
            None if r.pledge_id is None else int(r.pledge_id),
        )
        for r in session.connection().execute(query)
    ]


def _cumulative(deals: list[DealAmount]) -> tuple[list[int], list[float]]:
    days: list[int] = []
    totals: list[float] = []
    running = 0.0
    for deal in deals:
        if deal.day is None or deal.amount_usd is None:
            continue
        running += deal.amount_usd
        days.append(deal.day)
        totals.append(running)
    return days, totals


def pledge_progress(session: Session, pledge: m.Pledge) -> PledgeProgress:
    pid = m.stored_id(pledge.id)
    pledged_usd = _usd(pledge.amount_usd, pledge.amount, pledge.currency, pledge.usd_rate)
    progress = PledgeProgress(
        pid,
        pledge.title,
        pledge.amount,
        pledge.currency,
        pledged_usd,
        pledge.start_day,
        pledge.end_day,
        pledge.start_date,
        pledge.end_date,
        pledge.date_precision,
    )
    de, pl = m.Deal.__table__, m.Pledge.__table__
    progress.linked = _deals(session, de.c.pledge_id == pid)
    progress.days, progress.cumulative_usd = _cumulative(progress.linked)
    start = pledge.start_day
    if start is None:
        return progress  # an undated pledge has no period: nothing falls in it or overlaps it
    # A pledge with no end recorded is taken at its start day alone (its period is not known).
    end = pledge.end_day if pledge.end_day is not None else start
    # Its own linked deals are on the realised curve, never in the second series.
    in_period = _deals(
        session,
        de.c.start_day >= start,
        de.c.start_day <= end,
        sa.or_(de.c.pledge_id.is_(None), de.c.pledge_id != pid),
    )
    progress.shared_deal_ids = [d.deal_id for d in in_period if d.pledge_id is not None]
    progress.in_period = [d for d in in_period if d.pledge_id is None]
    progress.in_period_days, progress.in_period_cumulative_usd = _cumulative(progress.in_period)
    o_end = sa.func.coalesce(pl.c.end_day, pl.c.start_day)
    overlapping = (
        sa.select(pl.c.id)
        .where(pl.c.id != pid, pl.c.start_day.is_not(None), pl.c.start_day <= end, o_end >= start)
        .scalar_subquery()
    )
    # What each overlapping pledge realised, added up in one query (not one per pledge).
    realised_there: dict[int, float] = {
        int(other_id): float(total or 0.0)
        for other_id, total in session.connection().execute(
            sa.select(de.c.pledge_id, sa.func.sum(_usd_sql(de)))
            .where(de.c.pledge_id.in_(overlapping))
            .group_by(de.c.pledge_id)
        )
    }
    rows = session.connection().execute(
        sa.select(pl.c.id, pl.c.title, pl.c.start_day, o_end.label("end_day"), pl.c.supersedes_id)
        .where(pl.c.id != pid, pl.c.start_day.is_not(None), pl.c.start_day <= end, o_end >= start)
        .order_by(pl.c.start_day, pl.c.id)
    )
    for other in rows:
        if pledge.supersedes_id == other.id:
            relation = "supersedes"
        elif other.supersedes_id == pid:
            relation = "superseded by"
        else:
            relation = "overlaps"
        shared_start, shared_end = max(start, int(other.start_day)), min(end, int(other.end_day))
        there = realised_there.get(int(other.id), 0.0)
        progress.overlaps.append(Overlap(int(other.id), other.title, shared_start, shared_end, relation, there))
    return progress


def all_pledges(session: Session) -> list[PledgeProgress]:
    """Every pledge's figures, in date order (undated last): the hand-out's pledge page."""
    pledges = session.exec(select(m.Pledge)).all()
    ordered = sorted(pledges, key=lambda p: (p.start_day is None, p.start_day or 0, m.stored_id(p.id)))
    return [pledge_progress(session, p) for p in ordered]


# --- in words: the chart's key and the hand-out read these ------------------------------------


MAX_OVERLAPS_IN_WORDS = 4  # a large database has pledges overlapping hundreds of others


@dataclass(frozen=True)
class Figure:
    """One line of a pledge's figures: ``kind`` says which series it names (the chart draws its
    swatch: pledged, realised, open, exceeded, in_period, overlap, note)."""

    kind: str
    text: str


def _day_text(day: int) -> str:
    return date_text(m.day_to_date(day))


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def headline(p: PledgeProgress) -> str:
    own = "" if p.currency in (None, "USD") else f" ({money(p.pledged_amount, p.currency)})"
    when = period_text(p.start_date, p.end_date, p.precision)
    if p.pledged_usd is None:
        return f"{p.title} · {when}"
    return f"Pledged {usd(p.pledged_usd)}{own} · {when}"


def describe(p: PledgeProgress) -> list[Figure]:
    """The pledge's figures as sentences, in the order the chart's key shows them."""
    pledged = f"Pledged {usd(p.pledged_usd)}" if p.pledged_usd is not None else "Pledged: no amount recorded"
    lines = [Figure("pledged", pledged)]
    counted = p.deal_ids
    if not p.linked:
        lines.append(Figure("realised", "Realised: no deal is linked to this pledge"))
    else:
        share = ""
        if p.pledged_usd:
            share = f", {100 * p.realised_usd / p.pledged_usd:.0f}% of the pledge"
        text = f"Realised {usd(p.realised_usd)} from {_count(len(counted), 'linked deal', 'linked deals')}{share}"
        lines.append(Figure("realised", text))
        if p.without_amount:
            n = len(p.without_amount)
            lines.append(
                Figure("note", f"{_count(n, 'linked deal has', 'linked deals have')} no amount (not in the sum)")
            )
        if p.undated:
            n = len(p.undated)
            lines.append(
                Figure(
                    "note", f"{_count(n, 'linked deal is', 'linked deals are')} undated: in the sum, not on the curve"
                )
            )
        if p.outside_period:
            n = len(p.outside_period)
            lines.append(Figure("note", f"{_count(n, 'linked deal is', 'linked deals are')} dated outside its period"))
    if p.open_usd is not None:
        if p.exceeded_usd > 0:
            lines.append(Figure("exceeded", f"Exceeded by {usd(p.exceeded_usd)}"))
        elif p.linked:
            lines.append(Figure("open", f"Still open {usd(p.open_usd)}"))
        else:
            lines.append(Figure("open", f"Still open: all of it, {usd(p.open_usd)}"))
    if p.in_period:
        deals = _count(len(p.in_period), "deal", "deals")
        if any(d.amount_usd is not None for d in p.in_period):
            text = f"Not counted: {usd(p.in_period_usd)} in {deals} dated in its period but linked to no pledge"
        else:
            text = f"Not counted: {deals} dated in its period but linked to no pledge (none with an amount)"
        lines.append(Figure("in_period", text))
    shown = p.overlaps[:MAX_OVERLAPS_IN_WORDS]
    for o in shown:
        relation = {"supersedes": ", which it supersedes", "superseded by": ", which supersedes it"}.get(o.relation, "")
        stretch = f"{_day_text(o.start_day)} – {_day_text(o.end_day)}"
        lines.append(
            Figure(
                "overlap",
                f"Shares {stretch} with {o.label}{relation}; what is linked to that one "
                f"({usd(o.other_realised_usd)}) counts only there",
            )
        )
    if len(p.overlaps) > len(shown):
        more = len(p.overlaps) - len(shown)
        lines.append(
            Figure("overlap", f"… and {_count(more, 'other pledge shares', 'other pledges share')} part of its period")
        )
    return lines
