"""A deterministic synthetic partnership database of any size, written through the store (no Qt).

    explorer synth OUT.sqlite --records 1e6 [--seed 7] [--force]

``n`` counts the records the views show: deals (about 80 %), organisations (10 %), events (5 %),
pledges (2 %), initiatives and targets (1.5 % each), across 40 sectors (8 top-level, 32
sub-sectors), with dates from 1950 to 2050 (denser after 2000) in mixed precision, one to three
organisations on most deals, participants at events, deals filed under pledges and signed at
events, and a citation for about one record in three. The same seed and size always give the
same records (UUIDs and timestamps aside). Used by ``explorer synth`` and the benchmarks.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import sqlalchemy as sa

from explorer.store import Store, bulk, open_store

TOP_SECTORS = {
    "Energy": ("Solar", "Hydrogen", "Nuclear", "Grid & storage"),
    "Transport": ("High-speed rail", "Metro rail", "Automotive", "Shipbuilding"),
    "Manufacturing": ("Steel", "Chemicals", "Machinery", "Textiles"),
    "Technology": ("Semiconductors", "Electronics", "Software", "Telecoms"),
    "Finance": ("Banking", "Insurance", "Venture capital", "Development finance"),
    "Health": ("Pharmaceuticals", "Medical devices", "Hospitals", "Health insurance"),
    "Infrastructure": ("Ports", "Roads", "Urban development", "Water"),
    "Skills & people": ("Skilled workers", "Universities", "Tourism", "Culture"),
}
COUNTRIES = (("IN", "India"), ("JP", "Japan"), ("US", "United States"), ("SG", "Singapore"), ("AU", "Australia"))
CITY_ROOTS = (
    "Mumbai",
    "Delhi",
    "Chennai",
    "Bengaluru",
    "Ahmedabad",
    "Pune",
    "Kolkata",
    "Hyderabad",
    "Varanasi",
    "Guwahati",
    "Tokyo",
    "Osaka",
    "Nagoya",
    "Yokohama",
    "Kobe",
    "Fukuoka",
    "Sendai",
    "Hiroshima",
    "Kyoto",
    "Sapporo",
)
ORG_FIRST = (
    "Sumida",
    "Aoba",
    "Kaveri",
    "Narmada",
    "Hoshino",
    "Tata",
    "Mitsu",
    "Sakura",
    "Ganga",
    "Fuji",
    "Indus",
    "Kiso",
    "Deccan",
    "Hikari",
    "Malabar",
    "Asahi",
    "Konkan",
    "Yamato",
    "Sahyadri",
    "Kirin",
    "Vindhya",
    "Tenryu",
    "Satpura",
)
ORG_SECOND = (
    "Heavy Industries",
    "Electric",
    "Motors",
    "Steel",
    "Bank",
    "Trading",
    "Pharma",
    "Rail",
    "Systems",
    "Chemicals",
    "Holdings",
    "Semiconductor",
    "Power",
    "Logistics",
    "Realty",
    "Infra",
    "University",
    "Agency",
    "Capital",
)
DEAL_WORDS = ("plant", "joint venture", "expansion", "MoU", "loan", "stake", "line", "centre", "corridor", "campus")
EVENT_KINDS = ("summit", "visit", "announcement", "signing")
DEAL_KINDS = ("mou", "project", "investment", "plant", "hiring", "collaboration")
DEAL_STATUS = ("planned", "announced", "under_way", "operational", "completed", "cancelled")
PLEDGE_STATUS = ("announced", "active", "superseded", "fulfilled", "lapsed")
INITIATIVE_KINDS = ("initiative", "framework", "concept", "partnership", "programme")
PRECISIONS = ("day", "month", "year", "approximate")
# Rough USD per unit, by decade (enough for plausible USD columns).
RATES = {"USD": 1.0, "JPY": 0.0085, "INR": 0.013}

EPOCH = dt.date(1970, 1, 1)
FIRST_DAY = (dt.date(1950, 1, 1) - EPOCH).days
LAST_DAY = (dt.date(2050, 12, 31) - EPOCH).days
RECENT_DAY = (dt.date(2000, 1, 1) - EPOCH).days


def shares(n: int) -> dict[str, int]:
    """How many records of each timeline/tree type make up ``n``."""
    parts = {"organisation": 0.10, "event": 0.05, "pledge": 0.02, "initiative": 0.015, "target": 0.015}
    out = {k: max(2, round(n * v)) for k, v in parts.items()}
    out["deal"] = max(10, n - sum(out.values()))
    return out


class Generator:
    def __init__(self, n: int, seed: int) -> None:
        self.n = n
        self.rng = np.random.default_rng(seed)
        self.counts = shares(n)

    def dates(self, k: int, span_share: float, max_span: int) -> Iterator[tuple[dt.date, str, dt.date | None]]:
        rng = self.rng
        # Two thirds of the record falls after 2000: trackers fill up in recent decades.
        recent = rng.random(k) < 0.67
        start = np.where(recent, rng.integers(RECENT_DAY, LAST_DAY - 400, k), rng.integers(FIRST_DAY, RECENT_DAY, k))
        precision = rng.choice(4, size=k, p=(0.6, 0.2, 0.15, 0.05))
        has_span = rng.random(k) < span_share
        length = rng.integers(1, max_span, k)
        for s, p, h, ln in zip(start.tolist(), precision.tolist(), has_span.tolist(), length.tolist(), strict=True):
            first = EPOCH + dt.timedelta(days=s)
            yield first, PRECISIONS[p], (first + dt.timedelta(days=ln)) if h else None

    def money(self, k: int, scale: float) -> Iterator[dict[str, Any]]:
        rng = self.rng
        usd = np.exp(rng.normal(np.log(scale), 1.6, k))
        currency = rng.choice(3, size=k, p=(0.45, 0.35, 0.20))
        has = rng.random(k) < 0.8
        names = ("USD", "JPY", "INR")
        for amount_usd, c, h in zip(usd.tolist(), currency.tolist(), has.tolist(), strict=True):
            if not h:
                yield {}
                continue
            name = names[c]
            rate = RATES[name]
            yield {
                "amount": round(amount_usd / rate, 0),
                "currency": name,
                "usd_rate": rate,
                "amount_usd": round(amount_usd, 2),
            }


T = TypeVar("T")
PROGRESS_EVERY = 100_000  # rows between progress reports inside the long stages


def _counted(rows: Iterable[T], report: Callable[[int], None] | None, every: int = PROGRESS_EVERY) -> Iterator[T]:
    """``rows`` unchanged, calling ``report(k)`` after every ``every`` rows: progress within a long stage."""
    for k, row in enumerate(rows, 1):
        yield row
        if report is not None and k % every == 0:
            report(k)


def generate(out: Path, n: int, seed: int = 7, log: Callable[[str, float], None] | None = None) -> Path:
    """Write a new database of about ``n`` records to ``out`` (which must not exist).

    ``log(stage, start)`` is called as each stage ends (and every 100,000 deals), with the
    ``time.perf_counter()`` value the run started at.
    """
    if out.exists():
        raise FileExistsError(out)
    g = Generator(n, seed)
    rng, counts = g.rng, g.counts
    t0 = time.perf_counter()
    store: Store = open_store(out)
    try:
        with store.write() as s:
            source_ids = bulk.create_many(
                s,
                "source",
                (
                    {
                        "title": f"Synthetic tracker volume {k + 1}",
                        "publisher": "Benchmark generator",
                        "kind": "dataset",
                    }
                    for k in range(max(3, n // 20000))
                ),
            )
            country_ids = bulk.create_many(s, "country", ({"code": c, "name": name} for c, name in COUNTRIES))
            top_ids = bulk.create_many(s, "sector", ({"name": name} for name in TOP_SECTORS))
            sub_rows = [
                {"name": sub, "parent_id": top_ids[k]} for k, subs in enumerate(TOP_SECTORS.values()) for sub in subs
            ]
            sub_ids = bulk.create_many(s, "sector", sub_rows)
            sector_ids = np.array(list(top_ids) + list(sub_ids))
            n_places = int(min(600, max(20, n // 1500)))
            place_country = rng.choice(np.array(country_ids[:2]), size=n_places)
            place_ids = bulk.create_many(
                s,
                "place",
                (
                    {
                        "name": f"{CITY_ROOTS[k % len(CITY_ROOTS)]} district {k // len(CITY_ROOTS) + 1}",
                        "kind": "city",
                        "country_id": int(place_country[k]),
                    }
                    for k in range(n_places)
                ),
            )
            n_people = int(min(2000, max(10, n // 500)))
            person_ids = bulk.create_many(
                s,
                "person",
                (
                    {
                        "name": f"Delegate {k + 1:05d}",
                        "role": "Minister" if k % 7 == 0 else "Official",
                        "country_id": int(country_ids[k % 2]),
                    }
                    for k in range(n_people)
                ),
            )
            if log:
                log("reference", t0)

            # organisations: each has a home sector; a few giants get most deals (Zipf-like)
            n_org = counts["organisation"]
            org_sector = rng.choice(sector_ids, size=n_org)
            org_country = rng.choice(np.array(country_ids), size=n_org, p=(0.45, 0.45, 0.04, 0.03, 0.03))
            org_kind = rng.choice(4, size=n_org, p=(0.8, 0.08, 0.07, 0.05))
            org_kinds = ("company", "government", "university", "agency")
            org_ids = bulk.create_many(
                s,
                "organisation",
                (
                    {
                        "name": f"{ORG_FIRST[k % len(ORG_FIRST)]} {ORG_SECOND[(k // len(ORG_FIRST)) % len(ORG_SECOND)]}"
                        f" {k + 1}",
                        "kind": org_kinds[int(org_kind[k])],
                        "country_id": int(org_country[k]),
                        "sector_id": int(org_sector[k]),
                    }
                    for k in range(n_org)
                ),
            )
            org_arr = np.array(org_ids)
            if log:
                log("organisations", t0)

            n_ev = counts["event"]
            ev_place = rng.choice(np.array(place_ids), size=n_ev)
            ev_kind = rng.choice(4, size=n_ev, p=(0.1, 0.4, 0.3, 0.2))
            event_ids = bulk.create_many(
                s,
                "event",
                (
                    {
                        "title": f"{EVENT_KINDS[int(ev_kind[k])].capitalize()} in "
                        f"{CITY_ROOTS[int(ev_place[k]) % len(CITY_ROOTS)]} {k + 1}",
                        "kind": EVENT_KINDS[int(ev_kind[k])],
                        "start_date": d0,
                        "date_precision": prec,
                        "end_date": (d0 + dt.timedelta(days=int(rng.integers(1, 4)))) if d1 else None,
                        "place_id": int(ev_place[k]),
                    }
                    for k, (d0, prec, d1) in enumerate(g.dates(n_ev, 0.4, 4))
                ),
            )
            ev_arr = np.array(event_ids)
            bulk.link_many(
                s,
                "eventparticipant",
                (
                    {"event_id": e, "person_id": int(p)}
                    for e in event_ids
                    for p in set(rng.choice(np.array(person_ids), size=int(rng.integers(1, 3))).tolist())
                ),
            )
            if log:
                log("events", t0)

            n_pl = counts["pledge"]
            pledge_ids = bulk.create_many(
                s,
                "pledge",
                (
                    {
                        "title": f"Pledge {k + 1}: {int(money.get('amount_usd', 0) // 1e6):,} million for "
                        f"{list(TOP_SECTORS)[k % len(TOP_SECTORS)].lower()}",
                        "pledger_id": int(country_ids[1 if k % 3 else 0]),
                        "recipient_id": int(country_ids[0 if k % 3 else 1]),
                        "start_date": d0,
                        "date_precision": prec,
                        "end_date": d1,
                        "event_id": int(ev_arr[int(rng.integers(0, len(ev_arr)))]) if k % 2 == 0 else None,
                        "status": PLEDGE_STATUS[k % len(PLEDGE_STATUS)],
                        **money,
                    }
                    for k, ((d0, prec, d1), money) in enumerate(
                        zip(g.dates(n_pl, 0.85, 3650), g.money(n_pl, 2e9), strict=True)
                    )
                ),
            )
            pl_arr = np.array(pledge_ids)
            if log:
                log("pledges", t0)

            n_de = counts["deal"]
            # Zipf-weighted lead organisation; the deal's sector is mostly the lead's own.
            weights = 1.0 / np.arange(1, n_org + 1) ** 0.8
            weights /= weights.sum()
            lead = rng.choice(n_org, size=n_de, p=weights)
            own_sector = rng.random(n_de) < 0.85
            deal_sector = np.where(own_sector, org_sector[lead], rng.choice(sector_ids, size=n_de))
            deal_place = rng.choice(np.array(place_ids), size=n_de)
            kinds = rng.choice(len(DEAL_KINDS), size=n_de)
            under_pledge = rng.random(n_de) < 0.15
            signed_at = rng.random(n_de) < 0.10
            sector_names = {
                int(sid): name
                for sid, name in zip(
                    sector_ids.tolist(), list(TOP_SECTORS) + [x for v in TOP_SECTORS.values() for x in v], strict=True
                )
            }
            deal_rows = (
                {
                    "title": f"{sector_names[int(deal_sector[k])]} "
                    f"{DEAL_WORDS[int(kinds[k] + k) % len(DEAL_WORDS)]} "
                    f"{CITY_ROOTS[int(deal_place[k]) % len(CITY_ROOTS)]} {k + 1}",
                    "kind": DEAL_KINDS[int(kinds[k])],
                    "sector_id": int(deal_sector[k]),
                    "place_id": int(deal_place[k]),
                    "status": DEAL_STATUS[k % len(DEAL_STATUS)],
                    "start_date": d0,
                    "date_precision": prec,
                    "end_date": d1,
                    "pledge_id": int(pl_arr[k % len(pl_arr)]) if under_pledge[k] else None,
                    "event_id": int(ev_arr[k % len(ev_arr)]) if signed_at[k] else None,
                    **money,
                }
                for k, ((d0, prec, d1), money) in enumerate(
                    zip(g.dates(n_de, 0.3, 2000), g.money(n_de, 5e7), strict=True)
                )
            )
            report = (lambda k: log(f"deals {k:,} of {n_de:,}", t0)) if log else None
            deal_ids = bulk.create_many(s, "deal", _counted(deal_rows, report))
            if log:
                log("deals", t0)
            # 3 % of deals have no organisation recorded; the rest a lead and up to two partners.
            n_partners = rng.choice(4, size=n_de, p=(0.03, 0.57, 0.28, 0.12))
            partner = rng.choice(n_org, size=(n_de, 2), p=weights)

            def deal_links() -> Iterator[dict[str, Any]]:
                for k, deal_id in enumerate(deal_ids):
                    count = int(n_partners[k])
                    if count == 0:
                        continue
                    chosen = [int(lead[k])]
                    for p in partner[k, : count - 1].tolist():
                        if p not in chosen:
                            chosen.append(int(p))
                    for pos, org in enumerate(chosen):
                        yield {
                            "deal_id": deal_id,
                            "organisation_id": int(org_arr[org]),
                            "role": "lead" if pos == 0 else ("investor" if (k + pos) % 3 == 0 else "partner"),
                        }

            bulk.link_many(s, "dealorganisation", deal_links())
            if log:
                log("deal links", t0)

            n_in = counts["initiative"]
            initiative_ids = bulk.create_many(
                s,
                "initiative",
                (
                    {
                        "name": f"{list(TOP_SECTORS)[k % len(TOP_SECTORS)]} partnership programme {k + 1}",
                        "kind": INITIATIVE_KINDS[k % len(INITIATIVE_KINDS)],
                        "start_date": d0,
                        "date_precision": prec,
                        "end_date": d1,
                        "event_id": int(ev_arr[k % len(ev_arr)]) if k % 2 else None,
                        "sector_id": int(sector_ids[k % len(sector_ids)]),
                    }
                    for k, (d0, prec, d1) in enumerate(g.dates(n_in, 0.7, 3650))
                ),
            )
            in_arr = np.array(initiative_ids)
            n_ta = counts["target"]
            target_ids = bulk.create_many(
                s,
                "target",
                (
                    {
                        "name": f"Target {k + 1}: {int(v):,} people trained",
                        "initiative_id": int(in_arr[k % len(in_arr)]),
                        "value": float(v),
                        "unit": "people",
                        "start_date": d0,
                        "date_precision": prec,
                        "end_date": d1,
                        "status": ("target", "in_progress", "achieved", "missed")[k % 4],
                    }
                    for k, ((d0, prec, d1), v) in enumerate(
                        zip(g.dates(n_ta, 0.9, 1825), rng.integers(100, 100_000, n_ta).tolist(), strict=True)
                    )
                ),
            )
            if log:
                log("initiatives", t0)

            cited = [
                ("organisation", org_ids),
                ("event", event_ids),
                ("pledge", pledge_ids),
                ("deal", deal_ids),
                ("initiative", initiative_ids),
                ("target", target_ids),
            ]
            src_arr = np.array(source_ids)

            def citations() -> Iterator[dict[str, Any]]:
                for record_type, ids in cited:
                    pick = rng.random(len(ids)) < 0.33
                    src = rng.choice(src_arr, size=len(ids))
                    for k in np.flatnonzero(pick).tolist():
                        yield {
                            "source_id": int(src[k]),
                            "record_type": record_type,
                            "record_id": int(ids[k]),
                            "section": f"Table {k % 40 + 1}",
                        }

            bulk.create_many(s, "citation", citations())
            s.execute(
                sa.text("INSERT INTO meta (key, value) VALUES ('synthetic', :v)"),
                {"v": f"records={n} seed={seed}"},
            )
            if log:
                log("citations", t0)
        with store.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
        if log:
            log("analyze", t0)
    finally:
        store.close()
    return out
