"""Pledged against realised (explorer/store/pledges.py), without Qt: a pledge counts only the
deals linked to it, each once, in its own USD; deals that merely fall in its period are apart."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
import sqlalchemy as sa
from sqlmodel import select

from explorer import models as m
from explorer.store import Store, pledges

# An independent reading of "realised": the linked deals' own USD figures (or amount × their own
# rate, or the amount itself in USD), summed per pledge in SQL.
REALISED_SQL = sa.text(
    """
    SELECT p.id,
           COALESCE(SUM(CASE WHEN d.amount_usd IS NOT NULL THEN d.amount_usd
                             WHEN d.currency = 'USD' THEN d.amount
                             ELSE d.amount * d.usd_rate END), 0) AS realised,
           COUNT(d.id) AS linked
    FROM pledge p LEFT JOIN deal d ON d.pledge_id = p.id
    GROUP BY p.id
    """
)


def realised_by_sql(store: Store) -> dict[int, tuple[float, int]]:
    with store.engine.connect() as conn:
        return {int(pid): (float(total), int(n)) for pid, total, n in conn.execute(REALISED_SQL)}


def pledge_id(store: Store, amount: float) -> int:
    with store.read() as s:
        return m.stored_id(s.exec(select(m.Pledge).where(m.Pledge.amount == amount)).one().id)


def deal(store: Store, fragment: str) -> m.Deal:
    with store.read() as s:
        return s.exec(select(m.Deal).where(m.Deal.title.contains(fragment))).one()


def link(store: Store, fragment: str, pledge: int) -> m.Deal:
    d = deal(store, fragment)
    store.update("deal", m.stored_id(d.id), {"pledge_id": pledge}, expected_version=d.version)
    return deal(store, fragment)


def assert_counted_once(figures: list[pledges.PledgeProgress]) -> None:
    counted = Counter(d.deal_id for p in figures for d in p.linked)
    assert all(n == 1 for n in counted.values()), counted
    for p in figures:
        assert all(d.pledge_id == p.pledge_id for d in p.linked)
        assert all(d.pledge_id is None for d in p.in_period)  # the second series: linked to none
        assert not {d.deal_id for d in p.in_period} & set(counted)


def test_demo_pledges_realise_what_an_independent_query_over_linked_deals_gives(store: Store) -> None:
    figures = store.all_pledges()
    expected = realised_by_sql(store)
    assert {p.pledge_id for p in figures} == set(expected)
    for p in figures:
        total, n = expected[p.pledge_id]
        assert p.realised_usd == pytest.approx(total), p.title
        assert len(p.linked) == n, p.title
    assert_counted_once(figures)


def test_deals_merely_in_a_pledges_period_are_not_counted_but_reported_apart(store: Store) -> None:
    """The demo links no deal (the article files none under a pledge): the 2022 pledge realises
    nothing, and the two 2025 deals with amounts dated in its period are listed as not counted."""
    p = store.pledge_progress(pledge_id(store, 5e12))
    assert p.linked == [] and p.realised_usd == 0 and p.days == []
    assert p.open_usd == pytest.approx(42e9)
    assert p.in_period_usd == pytest.approx(4.76e9 + 7.02e9)
    assert {d.title for d in p.in_period if d.amount_usd} == {
        "Sumitomo Realty USD 4.76 bn investment",
        "Japanese automakers' Rs 600 bn plant commitment",
    }
    words = [f.text for f in pledges.describe(p)]
    assert "Realised: no deal is linked to this pledge" in words
    assert any(w.startswith("Not counted: ") and "US$11.8 bn" in w for w in words)
    assert not any("Realised US$" in w for w in words)


def test_linked_deals_add_up_in_their_own_usd_by_date_and_each_counts_once(store: Store) -> None:
    p2014, p2022, p2025 = (pledge_id(store, a) for a in (3.5e12, 5e12, 10e12))
    autos = link(store, "Rs 600 bn", p2022)  # rupees at its own rate, 0.0117 USD per INR
    steel = link(store, "Nippon Steel expansion in Gujarat", p2022)  # no amount
    sumitomo = link(store, "Sumitomo Realty", p2025)  # dated before the 2025 pledge began
    rail = link(store, "high-speed rail", p2014)  # no amount

    figures = store.all_pledges()
    assert_counted_once(figures)
    expected = realised_by_sql(store)
    for p in figures:
        assert p.realised_usd == pytest.approx(expected[p.pledge_id][0]), p.title

    by_id = {p.pledge_id: p for p in figures}
    y2022 = by_id[p2022]
    assert y2022.realised_usd == pytest.approx(600e9 * 0.0117)
    assert y2022.deal_ids == [autos.id]  # the steel expansion is linked but has no amount
    assert [d.deal_id for d in y2022.without_amount] == [steel.id]
    assert y2022.days == [autos.start_day] and y2022.cumulative_usd == pytest.approx([7.02e9])
    assert y2022.open_usd == pytest.approx(42e9 - 7.02e9)
    # Its linked deals are no longer "in its period, not linked"; Sumitomo's belongs to 2025.
    assert autos.id not in {d.deal_id for d in y2022.in_period}
    assert sumitomo.id in y2022.shared_deal_ids and sumitomo.id not in {d.deal_id for d in y2022.in_period}
    (overlap,) = y2022.overlaps
    assert overlap.record_id == p2025 and overlap.relation == "superseded by"
    assert overlap.start_day == m.day_number(dt.date(2025, 8, 29))
    assert overlap.end_day == m.day_number(dt.date(2027, 3, 31))
    assert overlap.other_realised_usd == pytest.approx(4.76e9)

    y2025 = by_id[p2025]
    assert y2025.realised_usd == pytest.approx(4.76e9)
    assert [d.deal_id for d in y2025.outside_period] == [sumitomo.id]
    assert by_id[p2014].realised_usd == 0 and [d.deal_id for d in by_id[p2014].linked] == [rail.id]

    words = [f.text for f in pledges.describe(y2022)]
    assert "Realised US$7.02 bn from 1 linked deal, 17% of the pledge" in words
    assert "Still open US$35 bn" in words
    assert "1 linked deal has no amount (not in the sum)" in words
    assert any(w.startswith("Shares 29 August 2025 – 31 March 2027 with 10 trillion yen") for w in words)


def test_a_deal_moved_to_another_pledge_leaves_the_first(store: Store) -> None:
    p2022, p2025 = pledge_id(store, 5e12), pledge_id(store, 10e12)
    link(store, "Sumitomo Realty", p2022)
    assert store.pledge_progress(p2022).realised_usd == pytest.approx(4.76e9)
    link(store, "Sumitomo Realty", p2025)
    assert store.pledge_progress(p2022).realised_usd == 0
    assert store.pledge_progress(p2025).realised_usd == pytest.approx(4.76e9)
    assert_counted_once(store.all_pledges())


def test_a_pledge_realised_beyond_its_amount_says_by_how_much(store: Store) -> None:
    p2022 = pledge_id(store, 5e12)
    store.create(
        "deal",
        {
            "title": "A large test deal",
            "kind": "investment",
            "amount": 50e9,
            "currency": "USD",
            "usd_rate": 1.0,
            "amount_usd": 50e9,
            "start_date": dt.date(2024, 1, 10),
            "date_precision": "day",
            "pledge_id": p2022,
        },
    )
    p = store.pledge_progress(p2022)
    assert p.exceeded_usd == pytest.approx(8e9) and p.open_usd == 0
    assert "Exceeded by US$8 bn" in [f.text for f in pledges.describe(p)]
