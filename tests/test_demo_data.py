"""The demo database carries the article's facts, each with its citation."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
from sqlmodel import select

from explorer import models as m
from explorer.store import Store

ROOT = Path(__file__).resolve().parents[1]
# The article sits in shared/source beside the checkout (or beside the folder of worktrees).
ARTICLE = next(
    (
        p / "shared" / "source" / "india-japan-partnership-article.txt"
        for p in Path(__file__).resolve().parents[1:4]
        if (p / "shared" / "source" / "india-japan-partnership-article.txt").exists()
    ),
    Path(__file__).resolve().parents[2] / "shared" / "source" / "india-japan-partnership-article.txt",
)
ARTICLE_TITLE = "India-Japan Partnership: A New Era of Strategic and Economic Synergy"


def one(store: Store, cls: type, **where: object):
    with store.read() as s:
        query = select(cls)
        for key, value in where.items():
            query = query.where(getattr(cls, key) == value)
        rows = s.exec(query).all()
    assert len(rows) == 1, f"expected one {cls.__name__} with {where}, found {len(rows)}"
    return rows[0]


def named(store: Store, cls: type, fragment: str):
    with store.read() as s:
        column = cls.title if hasattr(cls, "title") else cls.name
        rows = s.exec(select(cls).where(column.contains(fragment))).all()
    assert rows, f"no {cls.__name__} named like {fragment!r}"
    return rows


def test_ten_trillion_yen_pledge_links_to_15th_summit_and_supersedes_2022(store: Store) -> None:
    summit15 = one(store, m.Event, summit_number=15)
    assert summit15.start_date == dt.date(2025, 8, 29)
    assert summit15.end_date == dt.date(2025, 8, 30)
    pledge = one(store, m.Pledge, amount=10e12)
    assert pledge.currency == "JPY"
    assert pledge.amount_usd == pytest.approx(68e9)
    assert pledge.usd_rate == pytest.approx(0.0068)
    assert pledge.rate_date is not None
    assert pledge.event_id == summit15.id
    earlier = one(store, m.Pledge, id=pledge.supersedes_id)
    assert earlier.amount == 5e12 and earlier.currency == "JPY"
    assert earlier.start_date.year == 2022
    summit14 = one(store, m.Event, summit_number=14)
    assert earlier.event_id == summit14.id
    assert summit14.start_date == dt.date(2022, 3, 19)
    kishida = named(store, m.Person, "Kishida")[0]
    assert kishida.native_name


def test_every_annual_summit_is_there_with_place_and_precision(store: Store) -> None:
    expected = {
        1: ("Tokyo", 2006, 12),
        2: ("New Delhi", 2007, 8),
        3: ("Tokyo", 2008, 10),
        4: ("New Delhi", 2009, 12),
        5: ("Tokyo", 2010, 10),
        6: ("New Delhi", 2011, 12),
        7: ("Tokyo", 2013, 5),
        8: ("New Delhi", 2014, 1),
        9: ("Tokyo", 2014, 9),
        10: ("New Delhi", 2015, 12),
        11: ("Tokyo", 2016, 11),
        12: ("Gandhinagar", 2017, 9),
        13: ("Tokyo", 2018, 10),
        14: ("New Delhi", 2022, 3),
        15: ("Tokyo", 2025, 8),
    }
    for number, (city, year, month) in expected.items():
        summit = one(store, m.Event, summit_number=number)
        place = one(store, m.Place, id=summit.place_id)
        assert place.name == city, number
        assert (summit.start_date.year, summit.start_date.month) == (year, month), number
        assert summit.date_precision == ("day" if number >= 14 else "month"), number
        assert summit.start_day == (summit.start_date - dt.date(1970, 1, 1)).days


def test_ninth_summit_set_the_3_5_trillion_yen_target(store: Store) -> None:
    summit9 = one(store, m.Event, summit_number=9)
    pledge = one(store, m.Pledge, amount=3.5e12)
    assert pledge.event_id == summit9.id
    with store.read() as s:
        ssgp = s.exec(select(m.Initiative).where(m.Initiative.name.contains("Special Strategic"))).all()
    assert ssgp and ssgp[0].event_id == summit9.id


def test_deals_and_their_partners(store: Store) -> None:
    sumitomo = named(store, m.Organisation, "Sumitomo Realty")[0]
    with store.read() as s:
        deals = s.exec(
            select(m.Deal).join(m.DealOrganisation).where(m.DealOrganisation.organisation_id == sumitomo.id)
        ).all()
    assert any(d.amount_usd == pytest.approx(4.76e9) and d.currency == "USD" for d in deals)

    def partners_of(fragment: str) -> set[str]:
        deal = named(store, m.Deal, fragment)[0]
        with store.read() as s:
            rows = s.exec(
                select(m.Organisation.name).join(m.DealOrganisation).where(m.DealOrganisation.deal_id == deal.id)
            ).all()
        return set(rows)

    biogas = partners_of("iogas")
    assert any("Sojitz" in n for n in biogas) and any("Indian Oil" in n for n in biogas)
    space = partners_of("Astroscale")
    assert any("Astroscale" in n for n in space) and any("ISRO" in n or "Indian Space" in n for n in space)
    autos = [d for d in named(store, m.Deal, "") if d.currency == "INR" and d.amount == pytest.approx(600e9)]
    assert autos, "the Rs 600 billion automotive commitment"


def test_places_people_initiatives_and_targets(store: Store) -> None:
    for name in ("Gujarat", "Andhra Pradesh", "Karnataka", "Maharashtra", "Tokyo", "Sendai", "Ahmedabad", "Mumbai"):
        named(store, m.Place, name)
    for name in ("Narendra Modi", "Shigeru Ishiba", "Fumio Kishida"):
        named(store, m.Person, name)
    for name in ("Nippon Steel", "JFE Steel", "Suzuki", "Toyota", "Fujitsu", "Indian Oil", "Sojitz"):
        named(store, m.Organisation, name)
    for name in ("Economic Security", "AI", "Indo-Pacific"):
        named(store, m.Initiative, name)
    for name in ("Semiconductor", "Clean energy", "Pharmaceutical", "Steel", "Automotive", "Aerospace", "Real estate"):
        named(store, m.Sector, name)
    with store.read() as s:
        targets = s.exec(select(m.Target)).all()
    talent = [t for t in targets if t.value == 50_000]
    assert talent and talent[0].end_date and talent[0].start_date
    assert 4 <= (talent[0].end_date - talent[0].start_date).days / 365.25 <= 6
    mous = [t for t in targets if t.value == 170]
    assert mous and mous[0].amount_usd == pytest.approx(13e9) and "MoU" in mous[0].unit
    sendai = one(store, m.Event, title=named(store, m.Event, "Sendai")[0].title)
    assert sendai.start_date == dt.date(2025, 8, 30)


def test_every_record_cites_a_source_with_a_section(store: Store) -> None:
    with store.read() as s:
        cited = {(c.record_type, c.record_id) for c in s.exec(select(m.Citation)).all()}
        for name, cls in m.RECORD_TYPES.items():
            if name in ("citation", "source", "story", "storystep"):
                continue
            for record in s.exec(select(cls)).all():
                assert (name, record.id) in cited, f"{name} {record.id} has no citation"
        sources = {src.id: src for src in s.exec(select(m.Source)).all()}
        citations = s.exec(select(m.Citation)).all()
    assert any(src.title == ARTICLE_TITLE for src in sources.values())
    assert any(src.kind == "public_record" for src in sources.values())
    assert all(c.section for c in citations)
    if ARTICLE.exists():
        text = ARTICLE.read_text(encoding="utf-8")
        for c in citations:
            if sources[c.source_id].kind == "article":
                assert c.section in text, f"article section {c.section!r} is not a heading of the article"


def test_notes_are_our_own_words_not_the_articles(store: Store) -> None:
    if not ARTICLE.exists():
        pytest.skip("the source article is not beside this checkout")
    words = re.findall(r"[\w’'-]+", ARTICLE.read_text(encoding="utf-8").lower())
    article_runs = {" ".join(words[i : i + 8]) for i in range(len(words) - 8)}
    with store.read() as s:
        texts = [c.note or "" for c in s.exec(select(m.Citation)).all()]
        for cls in (m.Event, m.Pledge, m.Deal, m.Initiative, m.Organisation, m.Target):
            texts += [r.notes or "" for r in s.exec(select(cls)).all()]
    for text in texts:
        w = re.findall(r"[\w’'-]+", text.lower())
        for i in range(len(w) - 8):
            assert " ".join(w[i : i + 8]) not in article_runs, f"copied from the article: {text!r}"


def test_two_demo_databases_built_separately_merge_with_nothing_new(built_demo: Path, tmp_path: Path) -> None:
    """Two trainees each start from their own packaged app: their demo records are the same
    records (the same UUIDs), so merging one copy into the other brings nothing new and no clash."""
    from explorer.store import open_store
    from explorer.store.demo import build_demo_database

    other = build_demo_database(tmp_path / "trainee-2.sqlite", ROOT / "data" / "demo.yaml")
    mine_path = tmp_path / "trainee-1.sqlite"
    shutil.copyfile(built_demo, mine_path)
    mine = open_store(mine_path)
    try:
        plan = mine.plan_merge(other)
        assert plan.new_count() == 0, plan.summary()
        assert plan.problems == [] and plan.conflicts == [] and plan.take_theirs == []
        assert plan.empty
    finally:
        mine.close()


def test_every_deal_cites_the_basis_of_its_date_and_of_its_pledge_link(store: Store) -> None:
    """A trainer asked "how do we know when?" and "why is this (not) under the pledge?" finds
    the answer among the deal's sources; the date's citation names the precision it gives."""
    from explorer.store.demo import DATE_NOTE, PLEDGE_LINK_NOTE

    precision_words = {"day": "day", "month": "month", "year": "year", "approximate": "approximate"}
    with store.read() as s:
        sources = {src.id: src for src in s.exec(select(m.Source)).all()}
        deals = s.exec(select(m.Deal)).all()
        assert deals
        for deal in deals:
            cites = s.exec(
                select(m.Citation).where(m.Citation.record_type == "deal", m.Citation.record_id == deal.id)
            ).all()
            dated = [c for c in cites if (c.note or "").startswith(DATE_NOTE)]
            linked = [c for c in cites if (c.note or "").startswith(PLEDGE_LINK_NOTE)]
            assert len(dated) == 1 and len(linked) == 1, deal.title
            for c in dated + linked:
                assert c.section and sources[c.source_id].title, deal.title
            if deal.start_date is not None:
                assert precision_words[deal.date_precision] in (dated[0].note or ""), deal.title
            says_none = (linked[0].note or "").startswith(f"{PLEDGE_LINK_NOTE} none")
            assert says_none == (deal.pledge_id is None), deal.title
