"""Writes: one transaction each, version-checked, recorded field by field in the change log."""

from __future__ import annotations

import datetime as dt
import getpass
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from explorer import models as m
from explorer.store import search, validation
from explorer.store.changes import Change, ChangeSet, ValueChange
from explorer.store.errors import ConflictError, FieldConflict, FieldProblem, ValidationError
from explorer.store.queries import CitationView, get, record_label
from explorer.store.queries import citations_of as citation_views

# Link-table values a form passes besides plain columns.
LINK_FIELDS: dict[str, tuple[str, ...]] = {
    "event": ("participant_ids",),
    "deal": ("organisations",),
}


def _diff(changed: Iterable[tuple[str, Any, Any]]) -> dict[str, ValueChange]:
    """The event's fields from what the change log is given (the same old and new values)."""
    return {name: ValueChange(old, new) for name, old, new in changed}


def os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers and services
        return "unknown"


def as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def snapshot(session: Session, record_type: str, record: m.Record) -> dict[str, Any]:
    """The record's editable values, link lists included (what undo needs to restore)."""
    values = {f.name: getattr(record, f.name) for f in validation.FIELDS[record_type]}
    if record_type == "event":
        values["participant_ids"] = sorted(
            session.exec(select(m.EventParticipant.person_id).where(m.EventParticipant.event_id == record.id)).all()
        )
    elif record_type == "deal":
        values["organisations"] = sorted(
            (o, r)
            for o, r in session.exec(
                select(m.DealOrganisation.organisation_id, m.DealOrganisation.role).where(
                    m.DealOrganisation.deal_id == record.id
                )
            ).all()
        )
    return values


def _split(record_type: str, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    links = {k: values[k] for k in LINK_FIELDS.get(record_type, ()) if k in values}
    plain = {k: v for k, v in values.items() if k not in links}
    return plain, links


def _clean_links(session: Session, record_type: str, links: dict[str, Any]) -> dict[str, Any]:
    problems: list[FieldProblem] = []
    out: dict[str, Any] = {}
    if "participant_ids" in links:
        ids = sorted({int(i) for i in links["participant_ids"] or []})
        missing = [i for i in ids if session.get(m.Person, i) is None]
        if missing:
            problems.append(FieldProblem("Participants", f"unknown people: {missing}"))
        out["participant_ids"] = ids
    if "organisations" in links:
        pairs: dict[int, str] = {}
        for item in links["organisations"] or []:
            org_id, role = (item, "partner") if isinstance(item, int) else (int(item[0]), str(item[1]))
            if role not in ("lead", "partner", "investor"):
                problems.append(FieldProblem("Organisations", f"unknown role {role!r}."))
            pairs[org_id] = role
        missing = [i for i in pairs if session.get(m.Organisation, i) is None]
        if missing:
            problems.append(FieldProblem("Organisations", f"unknown organisations: {missing}"))
        out["organisations"] = sorted(pairs.items())
    if problems:
        raise ValidationError(problems)
    return out


def _check_refs(session: Session, record_type: str, values: dict[str, Any], self_id: int | None) -> None:
    problems: list[FieldProblem] = []
    for name, value in values.items():
        fs = validation.spec(record_type, name)
        if fs is None or fs.kind != "ref" or value is None:
            continue
        assert fs.ref is not None
        if session.get(m.RECORD_TYPES[fs.ref], value) is None:
            problems.append(FieldProblem(fs.label, "points at a record that does not exist."))
        elif fs.ref == record_type and value == self_id:
            problems.append(FieldProblem(fs.label, "cannot point at the record itself."))
    if record_type == "sector" and values.get("parent_id") is not None and self_id is not None:
        seen, parent = {self_id}, values["parent_id"]
        while parent is not None:
            if parent in seen:
                problems.append(FieldProblem("Parent sector", "would make a loop of sectors."))
                break
            seen.add(parent)
            row = session.get(m.Sector, parent)
            parent = row.parent_id if row else None
    if record_type == "citation" and values.get("record_type") and values.get("record_id") is not None:
        target = session.get(m.RECORD_TYPES[values["record_type"]], values["record_id"])
        if target is None:
            problems.append(FieldProblem("Record", "points at a record that does not exist."))
    unique = validation.UNIQUE_FIELDS.get(record_type)
    if unique and values.get(unique):
        cls = m.RECORD_TYPES[record_type]
        column = getattr(cls, unique)
        clash = session.exec(select(cls.id).where(column == values[unique], cls.id != (self_id or -1))).first()
        if clash is not None:
            spec = validation.spec(record_type, unique)
            problems.append(
                FieldProblem(spec.label if spec else unique, f"{values[unique]!r} is already used by another record.")
            )
    if problems:
        raise ValidationError(problems)


def _apply_links(session: Session, record_type: str, record_id: int, links: dict[str, Any]) -> None:
    if "participant_ids" in links:
        for row in session.exec(select(m.EventParticipant).where(m.EventParticipant.event_id == record_id)).all():
            session.delete(row)
        session.flush()
        for pid in links["participant_ids"]:
            session.add(m.EventParticipant(event_id=record_id, person_id=pid))
    if "organisations" in links:
        for row in session.exec(select(m.DealOrganisation).where(m.DealOrganisation.deal_id == record_id)).all():
            session.delete(row)
        session.flush()
        for org_id, role in links["organisations"]:
            session.add(m.DealOrganisation(deal_id=record_id, organisation_id=org_id, role=role))


def _log(
    session: Session,
    action: str,
    record_type: str,
    record: m.Record,
    user: str,
    changes: Iterable[tuple[str | None, Any, Any]],
) -> None:
    now = m.utcnow()
    for name, old, new in changes:
        session.add(
            m.ChangeLog(
                at=now,
                user=user,
                action=action,
                record_type=record_type,
                record_id=record.id,  # type: ignore[arg-type]
                record_uuid=record.uuid,
                field=name,
                old_value=as_text(old),
                new_value=as_text(new),
            )
        )


def create(
    session: Session,
    record_type: str,
    values: dict[str, Any],
    *,
    user: str,
    record_id: int | None = None,
    record_uuid: str | None = None,
) -> ChangeSet:
    """Insert a record. ``record_id``/``record_uuid`` restore a deleted one exactly (undo).
    ``values["citations"]``, if given, are its sources, written in the same transaction."""
    values = dict(values)
    citations = values.pop(CITATIONS, None)
    plain, links = _split(record_type, values)
    cleaned = validation.clean(record_type, plain)
    link_values = _clean_links(session, record_type, links)
    _check_refs(session, record_type, cleaned, None)
    record = m.RECORD_TYPES[record_type](**cleaned)
    if record_id is not None:
        record.id = record_id
    if record_uuid is not None:
        record.uuid = record_uuid
    session.add(record)
    session.flush()
    assert record.id is not None
    _apply_links(session, record_type, record.id, link_values)
    given = [(k, None, v) for k, v in {**cleaned, **link_values}.items() if v not in (None, "", [])]
    _log(session, "create", record_type, record, user, given)
    session.flush()
    search.reindex(
        session.connection(), record_type, [record.id], titles={record.id: search.indexed_title(record_type, record)}
    )
    cited = set_citations(session, record_type, record.id, citations, user=user) if citations else ChangeSet()
    own = Change("create", record_type, record.id, _diff(given))
    return ChangeSet([*cited.changes, own], author=user)  # the record's own change last


def update(
    session: Session,
    record_type: str,
    record_id: int,
    values: dict[str, Any],
    *,
    expected_version: int,
    user: str,
    base: dict[str, Any] | None = None,
) -> ChangeSet:
    """Change the given fields, refusing if the record moved on since ``expected_version``.
    ``values["citations"]`` replaces the record's sources, in the same transaction."""
    values = dict(values)
    citations = values.pop(CITATIONS, None)
    record = get(session, record_type, record_id)
    plain, links = _split(record_type, values)
    cleaned = validation.clean(record_type, plain, partial=True)
    link_values = _clean_links(session, record_type, links)
    current = snapshot(session, record_type, record)
    if record.version != expected_version:
        wanted = {**cleaned, **link_values}
        conflicts = [
            FieldConflict(k, (base or {}).get(k), current.get(k), v)
            for k, v in wanted.items()
            if current.get(k) != v and (base is None or base.get(k) != current.get(k))
        ]
        raise ConflictError(record_type, record_id, expected_version, record.version, current, conflicts)
    merged = {**current, **cleaned}
    validation.clean(record_type, {k: v for k, v in merged.items() if k not in LINK_FIELDS.get(record_type, ())})
    _check_refs(session, record_type, cleaned, record_id)
    changed = [(k, current.get(k), v) for k, v in {**cleaned, **link_values}.items() if current.get(k) != v]
    cited = ChangeSet()
    if citations is not None:
        before = citation_views(session, record_type, record_id)
        cited = set_citations(session, record_type, record_id, citations, user=user)
        if cited:
            after = _citations_text(citation_views(session, record_type, record_id))
            changed.append((CITATIONS, _citations_text(before), after))
    if not changed:
        return ChangeSet()
    for name, v in cleaned.items():
        setattr(record, name, v)
    if link_values or cited:
        if link_values:
            _apply_links(session, record_type, record_id, link_values)
        record.updated_at = m.utcnow()  # a link-only change must still bump the version
        session.add(record)
    session.flush()
    _log(session, "update", record_type, record, user, changed)
    search.reindex(
        session.connection(), record_type, [record_id], titles={record_id: search.indexed_title(record_type, current)}
    )
    return ChangeSet([*cited.changes, Change("update", record_type, record_id, _diff(changed))], author=user)


# --- citations: where a record's facts come from -----------------------------------------

CITATIONS = "citations"  # in create/update values: [(source_id, section, note), …]
Cite = tuple[int, str | None, str | None]


def citations_of(session: Session, record_type: str, record_id: int) -> list[Cite]:
    """The record's citations as set_citations takes them (queries.citations_of, without titles)."""
    views = citation_views(session, record_type, record_id)
    return [(int(c.source_id), c.section or None, c.note or None) for c in views]


def _citations_text(views: list[CitationView]) -> str:
    return "; ".join(c.source_title + (f" § {c.section}" if c.section else "") for c in views)


def set_citations(session: Session, record_type: str, record_id: int, wanted: Iterable[Any], *, user: str) -> ChangeSet:
    """Make the record's citations exactly ``wanted``: a citation of the same source and section
    is kept (its note updated), the others are added or deleted, each as a logged write."""
    cleaned: list[Cite] = []
    for item in wanted:
        source_id, section, note = [*list(item), None, None][:3]
        cleaned.append((int(source_id), (section or "").strip() or None, (note or "").strip() or None))
    remaining = list(
        session.exec(
            select(m.Citation).where(m.Citation.record_type == record_type, m.Citation.record_id == record_id)
        ).all()
    )
    changes = ChangeSet()
    for source_id, section, note in cleaned:
        match = next((c for c in remaining if c.source_id == source_id and (c.section or None) == section), None)
        if match is not None:
            remaining.remove(match)
            if (match.note or None) != note:
                changes.changes += update(
                    session, "citation", int(match.id or 0), {"note": note}, expected_version=match.version, user=user
                ).changes
        else:
            changes.changes += create(
                session,
                "citation",
                {
                    "source_id": source_id,
                    "record_type": record_type,
                    "record_id": record_id,
                    "section": section,
                    "note": note,
                },
                user=user,
            ).changes
    for gone in remaining:
        changes.changes += delete(
            session, "citation", int(gone.id or 0), expected_version=gone.version, user=user
        ).changes
    return changes


# Who points at whom: (referencing type, column) for each referenced type.
REFERENCES: dict[str, list[tuple[str, str]]] = {
    "country": [
        ("place", "country_id"),
        ("person", "country_id"),
        ("organisation", "country_id"),
        ("pledge", "pledger_id"),
        ("pledge", "recipient_id"),
    ],
    "place": [("event", "place_id"), ("deal", "place_id")],
    "person": [],
    "sector": [
        ("sector", "parent_id"),
        ("organisation", "sector_id"),
        ("deal", "sector_id"),
        ("initiative", "sector_id"),
    ],
    "organisation": [],
    "event": [("pledge", "event_id"), ("deal", "event_id"), ("initiative", "event_id"), ("target", "event_id")],
    "pledge": [("pledge", "supersedes_id"), ("deal", "pledge_id")],
    "deal": [],
    "initiative": [("target", "initiative_id")],
    "target": [],
    "source": [("citation", "source_id")],
    "citation": [],
    "story": [("storystep", "story_id")],
    "storystep": [],
}
# Records that belong to the one they point at: deleted with it, restored with it.
OWNED = {"citation", "storystep"}


@dataclass(frozen=True)
class Reference:
    record_type: str
    record_id: int
    label: str
    column: str


def references_to(session: Session, record_type: str, record_id: int) -> list[Reference]:
    """Records that point at this one (and would be affected by deleting it)."""
    out: list[Reference] = []
    for ref_type, column in REFERENCES.get(record_type, []):
        cls = m.RECORD_TYPES[ref_type]
        for row in session.exec(select(cls).where(getattr(cls, column) == record_id)).all():
            out.append(Reference(ref_type, row.id, record_label(row), column))  # type: ignore[arg-type]
    if record_type == "person":
        for ev in session.exec(
            select(m.Event)
            .join(m.EventParticipant, m.EventParticipant.event_id == m.Event.id)
            .where(m.EventParticipant.person_id == record_id)
        ).all():
            out.append(Reference("event", ev.id, ev.title, "participant_ids"))  # type: ignore[arg-type]
    if record_type == "organisation":
        for deal in session.exec(
            select(m.Deal)
            .join(m.DealOrganisation, m.DealOrganisation.deal_id == m.Deal.id)
            .where(m.DealOrganisation.organisation_id == record_id)
        ).all():
            out.append(Reference("deal", deal.id, deal.title, "organisations"))  # type: ignore[arg-type]
    return out


def delete(
    session: Session, record_type: str, record_id: int, *, expected_version: int, user: str, detach: bool = False
) -> ChangeSet:
    """Delete a record and its citations.

    Records pointing at it block the delete unless ``detach``: then their links to it are
    cleared (each such change logged and reported, so undo can restore them).
    """
    record = get(session, record_type, record_id)
    if record.version != expected_version:
        raise ConflictError(
            record_type, record_id, expected_version, record.version, snapshot(session, record_type, record), []
        )
    refs = references_to(session, record_type, record_id)
    changes = ChangeSet()
    if refs and not detach:
        names = "; ".join(f"{r.record_type} “{r.label}”" for r in refs[:10])
        more = f" and {len(refs) - 10} more" if len(refs) > 10 else ""
        raise ValidationError([FieldProblem("", f"{len(refs)} record(s) refer to it: {names}{more}.")])
    for ref in refs:
        ref_record = get(session, ref.record_type, ref.record_id)
        if ref.column == "participant_ids":
            ids = [p for p in snapshot(session, "event", ref_record)["participant_ids"] if p != record_id]
            changes.changes += update(
                session,
                "event",
                ref.record_id,
                {"participant_ids": ids},
                expected_version=ref_record.version,
                user=user,
            ).changes
        elif ref.column == "organisations":
            orgs = [o for o in snapshot(session, "deal", ref_record)["organisations"] if o[0] != record_id]
            changes.changes += update(
                session, "deal", ref.record_id, {"organisations": orgs}, expected_version=ref_record.version, user=user
            ).changes
        elif ref.record_type in OWNED:
            changes.changes += delete(
                session, ref.record_type, ref.record_id, expected_version=ref_record.version, user=user
            ).changes
        else:
            changes.changes += update(
                session,
                ref.record_type,
                ref.record_id,
                {ref.column: None},
                expected_version=ref_record.version,
                user=user,
            ).changes
    for citation in session.exec(
        select(m.Citation).where(m.Citation.record_type == record_type, m.Citation.record_id == record_id)
    ).all():
        changes.changes += delete(
            session,
            "citation",
            citation.id,
            expected_version=citation.version,  # type: ignore[arg-type]
            user=user,
        ).changes
    old = snapshot(session, record_type, record)
    _apply_links(session, record_type, record_id, {k: [] for k in LINK_FIELDS.get(record_type, ())})
    gone = [(k, v, None) for k, v in old.items() if v not in (None, "", [])]
    _log(session, "delete", record_type, record, user, gone)
    session.delete(record)
    session.flush()
    search.reindex(
        session.connection(), record_type, [record_id], titles={record_id: search.indexed_title(record_type, old)}
    )
    changes.changes.append(Change("delete", record_type, record_id, _diff(gone)))
    changes.author = user
    return changes


@dataclass
class RecordImage:
    """A record as it was: enough to put it back exactly (same id and UUID)."""

    record_type: str
    record_id: int
    uuid: str
    values: dict[str, Any]


@dataclass
class DeleteBundle:
    """What a delete removed or unlinked, captured before it ran; undo restores all of it."""

    main: RecordImage
    citations: list[RecordImage]
    detached: list[tuple[str, int, str, Any]]  # (type, id, column, the value that pointed here)


def image(session: Session, record_type: str, record_id: int) -> RecordImage:
    record = get(session, record_type, record_id)
    return RecordImage(record_type, record_id, record.uuid, snapshot(session, record_type, record))


def capture_delete(session: Session, record_type: str, record_id: int) -> DeleteBundle:
    main = image(session, record_type, record_id)
    citations = [
        image(session, "citation", c.id)  # type: ignore[arg-type]
        for c in session.exec(
            select(m.Citation).where(m.Citation.record_type == record_type, m.Citation.record_id == record_id)
        ).all()
    ]
    detached: list[tuple[str, int, str, Any]] = []
    for ref in references_to(session, record_type, record_id):
        if ref.record_type in OWNED:
            citations.append(image(session, ref.record_type, ref.record_id))
        elif ref.column == "organisations":
            deal = get(session, "deal", ref.record_id)
            role = next(r for o, r in snapshot(session, "deal", deal)["organisations"] if o == record_id)
            detached.append(("deal", ref.record_id, "organisations", (record_id, role)))
        elif ref.column == "participant_ids":
            detached.append(("event", ref.record_id, "participant_ids", record_id))
        else:
            detached.append((ref.record_type, ref.record_id, ref.column, record_id))
    return DeleteBundle(main, citations, detached)


def restore(session: Session, bundle: DeleteBundle, *, user: str) -> ChangeSet:
    """Undo a delete: the record, its citations and every link cleared by the delete."""
    main = bundle.main
    changes = create(session, main.record_type, main.values, user=user, record_id=main.record_id, record_uuid=main.uuid)
    for c in bundle.citations:
        if session.get(m.RECORD_TYPES[c.record_type], c.record_id) is None:
            changes.changes += create(
                session, c.record_type, c.values, user=user, record_id=c.record_id, record_uuid=c.uuid
            ).changes
    for rtype, rid, column, value in bundle.detached:
        record = session.get(m.RECORD_TYPES[rtype], rid)
        if record is None:
            continue
        if column == "organisations":
            current = snapshot(session, rtype, record)["organisations"]
            new: Any = sorted({*(tuple(x) for x in current), tuple(value)})
        elif column == "participant_ids":
            new = sorted({*snapshot(session, rtype, record)["participant_ids"], value})
        else:
            new = value
        changes.changes += update(
            session, rtype, rid, {column: new}, expected_version=record.version, user=user
        ).changes
    return changes
