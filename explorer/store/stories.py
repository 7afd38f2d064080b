"""Stories: ordered steps naming records by UUID, a timeline range, filters and a caption."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from explorer import models as m


@dataclass
class StepData:
    id: int
    version: int
    position: int
    caption: str
    selection: list[tuple[str, str]]  # (record type, UUID)
    start_day: float | None
    end_day: float | None
    filters: dict[str, Any] = field(default_factory=dict)


def list_stories(session: Session) -> list[tuple[int, str]]:
    return [(m.stored_id(s.id), s.title) for s in session.exec(select(m.Story).order_by(col(m.Story.id))).all()]


def steps(session: Session, story_id: int) -> list[StepData]:
    rows = session.exec(
        select(m.StoryStep)
        .where(m.StoryStep.story_id == story_id)
        .order_by(col(m.StoryStep.position), col(m.StoryStep.id))
    ).all()
    out = []
    for row in rows:
        try:
            selection = [(str(t), str(u)) for t, u in json.loads(row.selection or "[]")]
        except (ValueError, TypeError):
            selection = []
        try:
            filters = json.loads(row.filters or "{}")
        except ValueError:
            filters = {}
        out.append(
            StepData(
                m.stored_id(row.id),
                row.version,
                row.position,
                row.caption,
                selection,
                row.start_day,
                row.end_day,
                filters if isinstance(filters, dict) else {},
            )
        )
    return out


def ids_for_uuids(session: Session, pairs: list[tuple[str, str]]) -> list[tuple[str, int]]:
    """(type, id) for each (type, UUID) that still exists, in order."""
    out = []
    for record_type, uuid in pairs:
        cls = m.RECORD_TYPES.get(record_type)
        if cls is None:
            continue
        record_id = session.exec(select(cls.id).where(cls.uuid == uuid)).first()
        if record_id is not None:
            out.append((record_type, int(record_id)))
    return out


def uuids_for_ids(session: Session, refs: list[tuple[str, int]]) -> list[tuple[str, str]]:
    out = []
    for record_type, record_id in refs:
        record = session.get(m.RECORD_TYPES[record_type], record_id)
        if record is not None:
            out.append((record_type, record.uuid))
    return out
