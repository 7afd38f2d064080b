"""Build the demo database from the readable dataset (data/demo.yaml) through the store's writes."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from sqlmodel import Session

from explorer import paths
from explorer.store import search, writes
from explorer.store.database import open_database, settle, url_for

DEMO_USER = "demo dataset"
# What a deal's citations say about it in demo.yaml: the basis of its date and precision, and why
# it is (or is not) linked to a pledge. Citations have no field column, so the note says which.
DATE_NOTE = "Date:"
PLEDGE_LINK_NOTE = "Pledge link:"
# Demo records get the same UUID in every build (from their key in demo.yaml), so copies built
# separately — two trainees' packaged apps — hold the same records and merge cleanly.
DEMO_NAMESPACE = uuid.UUID("5b0d6a52-3c1e-4f6e-9a57-2f1c8e0b7d41")


def demo_uuid(*key: object) -> str:
    return str(uuid.uuid5(DEMO_NAMESPACE, "/".join(str(k) for k in key)))


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _dated(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "start_date": _date(row.get("date", row.get("start"))),
        "date_precision": row.get("precision") or "day",
        "end_date": _date(row.get("end")),
    }


def _money(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row.get(k) for k in ("amount", "currency", "usd_rate", "amount_usd")} | {
        "rate_date": _date(row.get("rate_date"))
    }


def _ordered(rows: list[dict[str, Any]], parent_key: str) -> list[dict[str, Any]]:
    """Rows with every parent before its children (sectors, superseded pledges)."""
    done: set[str] = set()
    out: list[dict[str, Any]] = []
    pending = list(rows)
    while pending:
        progressed = False
        for row in list(pending):
            parent = row.get(parent_key)
            if parent is None or parent in done:
                out.append(row)
                done.add(row["key"])
                pending.remove(row)
                progressed = True
        if not progressed:
            raise ValueError(f"cycle or unknown {parent_key}: {[r['key'] for r in pending]}")
    return out


class _Loader:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.ids: dict[tuple[str, str], int] = {}

    def ref(self, record_type: str, key: str | None) -> int | None:
        if key is None:
            return None
        try:
            return self.ids[(record_type, str(key))]
        except KeyError:
            raise ValueError(f"demo.yaml: unknown {record_type} {key!r}") from None

    def add(self, record_type: str, row: dict[str, Any], values: dict[str, Any]) -> int:
        key = str(row["key"])
        change = writes.create(
            self.session, record_type, values, user=DEMO_USER, record_uuid=demo_uuid(record_type, key)
        )
        record_id = change.changes[-1].record_id
        self.ids[(record_type, key)] = record_id
        for n, cite in enumerate(row.get("cite") or [], start=1):
            writes.create(
                self.session,
                "citation",
                {
                    "source_id": self.ref("source", cite["source"]),
                    "record_type": record_type,
                    "record_id": record_id,
                    "section": cite.get("section"),
                    "note": cite.get("note"),
                },
                user=DEMO_USER,
                record_uuid=demo_uuid("citation", record_type, key, n),
            )
        return record_id


def load_dataset(session: Session, data: dict[str, Any]) -> None:
    loader = _Loader(session)
    _load_records(session, data, loader)
    load_stories(session, data, loader.ids)


def _load_records(session: Session, data: dict[str, Any], loader: _Loader) -> None:
    for row in data["sources"]:
        loader.add(
            "source",
            row,
            {
                "title": row["title"],
                "publisher": row.get("publisher"),
                "kind": row.get("kind", "article"),
                "published": _date(row.get("published")),
                "url": row.get("url"),
                "notes": row.get("notes"),
            },
        )
    for row in data["countries"]:
        loader.add("country", row, {"code": str(row["key"]), "name": row["name"]})
    for row in data["places"]:
        loader.add(
            "place",
            row,
            {
                "name": row["name"],
                "kind": row.get("kind", "city"),
                "country_id": loader.ref("country", row.get("country")),
                "latitude": row.get("lat"),
                "longitude": row.get("lon"),
            },
        )
    for row in data["people"]:
        loader.add(
            "person",
            row,
            {
                "name": row["name"],
                "native_name": row.get("native_name"),
                "role": row.get("role"),
                "country_id": loader.ref("country", row.get("country")),
                "term_start": _date(row.get("term_start")),
                "term_end": _date(row.get("term_end")),
                "notes": row.get("notes"),
            },
        )
    for row in _ordered(data["sectors"], "parent"):
        loader.add(
            "sector",
            row,
            {
                "name": row["name"],
                "parent_id": loader.ref("sector", row.get("parent")),
                "notes": row.get("notes"),
            },
        )
    for row in data["organisations"]:
        loader.add(
            "organisation",
            row,
            {
                "name": row["name"],
                "kind": row.get("kind", "company"),
                "country_id": loader.ref("country", row.get("country")),
                "sector_id": loader.ref("sector", row.get("sector")),
                "notes": row.get("notes"),
            },
        )
    for row in data["events"]:
        loader.add(
            "event",
            row,
            {
                "title": row["title"],
                "kind": row.get("kind", "summit"),
                "summit_number": row.get("summit_number"),
                **_dated(row),
                "place_id": loader.ref("place", row.get("place")),
                "notes": row.get("notes"),
                "participant_ids": [loader.ref("person", p) for p in row.get("participants") or []],
            },
        )
    for row in _ordered(data["pledges"], "supersedes"):
        loader.add(
            "pledge",
            row,
            {
                "title": row["title"],
                "pledger_id": loader.ref("country", row.get("pledger")),
                "recipient_id": loader.ref("country", row.get("recipient")),
                **_money(row),
                **_dated(row),
                "event_id": loader.ref("event", row.get("event")),
                "supersedes_id": loader.ref("pledge", row.get("supersedes")),
                "status": row.get("status", "announced"),
                "notes": row.get("notes"),
            },
        )
    for row in data["deals"]:
        loader.add(
            "deal",
            row,
            {
                "title": row["title"],
                "kind": row.get("kind", "project"),
                "sector_id": loader.ref("sector", row.get("sector")),
                "place_id": loader.ref("place", row.get("place")),
                **_money(row),
                **_dated(row),
                "status": row.get("status", "announced"),
                "pledge_id": loader.ref("pledge", row.get("pledge")),
                "event_id": loader.ref("event", row.get("event")),
                "notes": row.get("notes"),
                "organisations": [
                    (loader.ref("organisation", o["org"]), o.get("role", "partner"))
                    for o in row.get("organisations") or []
                ],
            },
        )
    for row in data["initiatives"]:
        loader.add(
            "initiative",
            row,
            {
                "name": row["name"],
                "kind": row.get("kind", "initiative"),
                **_dated(row),
                "event_id": loader.ref("event", row.get("event")),
                "sector_id": loader.ref("sector", row.get("sector")),
                "notes": row.get("notes"),
            },
        )
    targets = data["targets"]
    for row in targets:
        loader.add(
            "target",
            row,
            {
                "name": row["name"],
                "initiative_id": loader.ref("initiative", row.get("initiative")),
                "value": row["value"],
                "unit": row["unit"],
                "amount_usd": row.get("amount_usd"),
                **_dated(row),
                "status": row.get("status", "target"),
                "event_id": loader.ref("event", row.get("event")),
                "notes": row.get("notes"),
            },
        )


def build_demo_database(out: Path, source: Path | None = None) -> Path:
    """Write the demo database to ``out`` atomically (a half-built file is never left there)."""
    source = source or paths.demo_source_path()
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".demo-", suffix=".sqlite", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        opened = open_database(url_for(tmp), set_up_empty=True)  # mkstemp's empty file
        try:
            with opened.engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn, conn.begin():
                with Session(bind=conn) as session:
                    load_dataset(session, data)
                    session.flush()
                conn.execute(sa.text("INSERT INTO meta (key, value) VALUES ('demo', :v)"), {"v": source.name})
                search.rebuild(conn)
            with opened.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            opened.engine.dispose()
        settle(tmp)  # shipped in rollback mode: opening it read-only creates no -wal/-shm
        for suffix in ("-wal", "-shm"):
            Path(str(tmp) + suffix).unlink(missing_ok=True)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        for suffix in ("-wal", "-shm"):
            Path(str(tmp) + suffix).unlink(missing_ok=True)
        raise
    return out


def _day(value: Any) -> float | None:
    date = _date(value)
    return None if date is None else float((date - dt.date(1970, 1, 1)).days)


def load_stories(session: Session, data: dict[str, Any], ids: dict[tuple[str, str], int]) -> None:
    """Stories name records by dataset key; the database stores their UUIDs."""
    import json

    from explorer import models as m

    def uuid_of(record_type: str, key: str) -> str:
        record = session.get(m.RECORD_TYPES[record_type], ids[(record_type, key)])
        assert record is not None
        return record.uuid

    for story in data.get("stories") or []:
        story_key = story.get("key") or story["title"]
        change = writes.create(
            session,
            "story",
            {"title": story["title"], "notes": story.get("notes")},
            user=DEMO_USER,
            record_uuid=demo_uuid("story", story_key),
        )
        story_id = change.changes[-1].record_id
        for position, step in enumerate(story["steps"], start=1):
            selection = [[t, uuid_of(t, k)] for item in step.get("select") or [] for t, k in item.items()]
            filters_in = step.get("filters") or {}
            filters = {
                "sectors": [uuid_of("sector", k) for k in filters_in.get("sectors", [])],
                "countries": [uuid_of("country", k) for k in filters_in.get("countries", [])],
                "text": filters_in.get("text", ""),
            }
            start, end = (step.get("range") or [None, None])[:2]
            writes.create(
                session,
                "storystep",
                {
                    "story_id": story_id,
                    "position": position,
                    "caption": step["caption"],
                    "selection": json.dumps(selection),
                    "start_day": _day(start),
                    "end_day": _day(end),
                    "filters": json.dumps(filters),
                },
                user=DEMO_USER,
                record_uuid=demo_uuid("storystep", story_key, position),
            )
