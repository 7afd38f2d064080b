"""Writes: one transaction each, version-checked, recorded field by field in the change log."""

from __future__ import annotations

import datetime as dt
import getpass
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from explorer import models as m
from explorer import schema
from explorer.store import search, validation
from explorer.store.changes import Change, ChangeSet, ValueChange
from explorer.store.errors import ConflictError, FieldConflict, FieldProblem, ValidationError
from explorer.store.queries import CitationView, get, record_label
from explorer.store.queries import citations_of as citation_views


def link_fields(record_type: str) -> tuple[str, ...]:
    """Link-table values a form passes besides plain columns (an event's participant_ids)."""
    found = schema.KINDS.get(record_type)
    return () if found is None else found.link_names


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


def _linked(session: Session, link: schema.LinkSpec, record_id: int) -> list[Any]:
    """The records linked through ``link``: sorted ids, or sorted (id, role) pairs."""
    table = link.table
    own, target = getattr(table, link.own_key), getattr(table, link.target_key)
    if link.roles:
        rows = session.exec(select(target, table.role).where(own == record_id)).all()  # type: ignore[attr-defined]
        return sorted((int(o), str(r)) for o, r in rows)
    return sorted(int(i) for i in session.exec(select(target).where(own == record_id)).all())


def snapshot(session: Session, record_type: str, record: m.Record) -> dict[str, Any]:
    """The record's editable values, link lists included (what undo needs to restore)."""
    values = {f.name: getattr(record, f.name) for f in validation.FIELDS[record_type]}
    for link in schema.kind(record_type).links:
        values[link.name] = _linked(session, link, int(record.id or 0))
    return values


def _split(record_type: str, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    links = {k: values[k] for k in link_fields(record_type) if k in values}
    plain = {k: v for k, v in values.items() if k not in links}
    return plain, links


def _clean_links(session: Session, record_type: str, links: dict[str, Any]) -> dict[str, Any]:
    problems: list[FieldProblem] = []
    out: dict[str, Any] = {}
    for link in schema.kind(record_type).links:
        if link.name not in links:
            continue
        target = m.RECORD_TYPES[link.target]
        what = schema.label(link.target).lower()
        if link.roles:
            pairs: dict[int, str] = {}
            for item in links[link.name] or []:
                rid, role = (item, link.default_role) if isinstance(item, int) else (int(item[0]), str(item[1]))
                if role not in link.roles:
                    problems.append(FieldProblem(link.label, f"unknown role {role!r}.", link.name))
                pairs[rid] = role
            ids = list(pairs)
            out[link.name] = sorted(pairs.items())
        else:
            ids = sorted({int(i) for i in links[link.name] or []})
            out[link.name] = ids
        missing = [i for i in ids if session.get(target, i) is None]
        if missing:
            problems.append(FieldProblem(link.label, f"unknown {what} records: {missing}", link.name))
    if problems:
        raise ValidationError(problems)
    return out


def loop_message(record_type: str) -> str:
    """What a record is told whose chain of parents would come back to it (checks and writes)."""
    return f"would lead back to this {schema.label(record_type).lower()} (a loop)."


def _check_refs(session: Session, record_type: str, values: dict[str, Any], self_id: int | None) -> None:
    problems: list[FieldProblem] = []
    for name, value in values.items():
        fs = validation.spec(record_type, name)
        if fs is None or fs.kind != "ref" or value is None:
            continue
        assert fs.ref is not None
        if session.get(m.RECORD_TYPES[fs.ref], value) is None:
            problems.append(FieldProblem(fs.label, "points at a record that does not exist.", name))
        elif fs.ref == record_type and value == self_id:
            problems.append(FieldProblem(fs.label, "cannot point at the record itself.", name))
        elif fs.ref == record_type and self_id is not None:
            # A chain of records of one type (a sector's parents) must not come back to this one.
            seen, parent = {self_id}, value
            cls = m.RECORD_TYPES[record_type]
            while parent is not None:
                if parent in seen:
                    problems.append(FieldProblem(fs.label, loop_message(record_type), name))
                    break
                seen.add(parent)
                row = session.get(cls, parent)
                parent = getattr(row, name) if row else None
    if record_type == "citation" and values.get("record_type") and values.get("record_id") is not None:
        target = session.get(m.RECORD_TYPES[values["record_type"]], values["record_id"])
        if target is None:
            problems.append(FieldProblem("Record", "points at a record that does not exist.", "record_id"))
    unique = validation.unique_field(record_type)
    if unique and values.get(unique):
        cls = m.RECORD_TYPES[record_type]
        column = getattr(cls, unique)
        clash = session.exec(select(cls.id).where(column == values[unique], cls.id != (self_id or -1))).first()
        if clash is not None:
            spec = validation.spec(record_type, unique)
            problems.append(
                FieldProblem(
                    spec.label if spec else unique, f"{values[unique]!r} is already used by another record.", unique
                )
            )
    if problems:
        raise ValidationError(problems)


def _apply_links(session: Session, record_type: str, record_id: int, links: dict[str, Any]) -> None:
    for link in schema.kind(record_type).links:
        if link.name not in links:
            continue
        for row in session.exec(select(link.table).where(getattr(link.table, link.own_key) == record_id)).all():
            session.delete(row)
        session.flush()
        for item in links[link.name]:
            if link.roles:
                target_id, role = item
                session.add(link.table(**{link.own_key: record_id, link.target_key: target_id, "role": role}))
            else:
                session.add(link.table(**{link.own_key: record_id, link.target_key: item}))


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
                record_id=m.stored_id(record.id),
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


class RowValidationError(ValidationError):
    """A row of a bulk write was refused; ``index`` is its place in the rows given."""

    def __init__(self, index: int, problems: list[FieldProblem]) -> None:
        super().__init__(problems)
        self.index = index


def create_many(
    session: Session, record_type: str, rows: list[tuple[str, dict[str, Any]]], *, user: str
) -> list[Change]:
    """Insert many new records of one type (an import): each (UUID, values) checked exactly as
    ``create`` checks it and logged the same way, but written one statement a table instead of
    several round trips a record. Citations are not taken here (they are rows of their own).
    Raises RowValidationError naming the first row refused; nothing is then written."""
    cls = m.RECORD_TYPES[record_type]
    table = cls.__table__
    statics = {
        name: info.get_default(call_default_factory=False)
        for name, info in cls.model_fields.items()
        if name not in ("id", "uuid", "created_at", "updated_at") and info.default_factory is None
    }
    dated = issubclass(cls, m.Dated)
    now = m.utcnow()
    checked: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for index, (_uuid, values) in enumerate(rows):
        plain, links = _split(record_type, values)
        if CITATIONS in plain:
            raise ValueError("create_many takes citations as citation rows")
        try:
            cleaned = validation.clean(record_type, plain)
            link_values = _clean_links(session, record_type, links)
            _check_refs(session, record_type, cleaned, None)
        except ValidationError as exc:
            raise RowValidationError(index, exc.problems) from exc
        checked.append((cleaned, link_values))
    session.flush()  # whatever the session holds goes first: these rows may point at it
    params = []
    for (record_uuid, _values), (cleaned, _links) in zip(rows, checked, strict=True):
        row = {**statics, **cleaned, "uuid": record_uuid, "version": 1, "created_at": now, "updated_at": now}
        if dated:
            row["start_day"] = m.day_number(row.get("start_date"))
            row["end_day"] = m.day_number(row.get("end_date"))
        params.append(row)
    inserted = session.execute(sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), params)
    ids = [int(i) for i in inserted.scalars()]
    for link in schema.kind(record_type).links:
        link_rows = []
        for record_id, (_cleaned, link_values) in zip(ids, checked, strict=True):
            for item in link_values.get(link.name, []):
                if link.roles:
                    link_rows.append({link.own_key: record_id, link.target_key: item[0], "role": item[1]})
                else:
                    link_rows.append({link.own_key: record_id, link.target_key: item})
        if link_rows:
            session.execute(sa.insert(link.table.__table__), link_rows)  # type: ignore[attr-defined]
    log_rows = []
    changes = []
    for record_id, (record_uuid, _values), (cleaned, link_values) in zip(ids, rows, checked, strict=True):
        given = [(k, None, v) for k, v in {**cleaned, **link_values}.items() if v not in (None, "", [])]
        log_rows += [
            {
                "at": now,
                "user": user,
                "action": "create",
                "record_type": record_type,
                "record_id": record_id,
                "record_uuid": record_uuid,
                "field": name,
                "old_value": None,
                "new_value": as_text(new),
            }
            for name, _old, new in given
        ]
        changes.append(Change("create", record_type, record_id, _diff(given)))
    if log_rows:
        session.execute(sa.insert(m.ChangeLog.__table__), log_rows)
    search.index_new(session.connection(), record_type, zip(ids, (c for c, _ in checked), strict=True))
    return changes


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
    validation.clean(record_type, {k: v for k, v in merged.items() if k not in link_fields(record_type)})
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


@dataclass(frozen=True)
class Reference:
    record_type: str
    record_id: int
    label: str
    column: str


def references_to(session: Session, record_type: str, record_id: int) -> list[Reference]:
    """Records that point at this one (and would be affected by deleting it)."""
    out: list[Reference] = []
    for ref_type, column in schema.references().get(record_type, []):
        cls = m.RECORD_TYPES[ref_type]
        for row in session.exec(select(cls).where(getattr(cls, column) == record_id)).all():
            out.append(Reference(ref_type, m.stored_id(row.id), record_label(row), column))
    for other in schema.kinds():
        for link in other.links:
            if link.target != record_type:
                continue
            cls = other.model
            rows = session.exec(
                select(cls)
                .join(link.table, getattr(link.table, link.own_key) == cls.id)
                .where(getattr(link.table, link.target_key) == record_id)
            ).all()
            out += [Reference(other.name, m.stored_id(row.id), record_label(row), link.name) for row in rows]
    return out


def _owned(ref: Reference, record_type: str) -> bool:
    return schema.kind(ref.record_type).owned_by == record_type


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
        if ref.column in link_fields(ref.record_type):
            kept = [
                item
                for item in snapshot(session, ref.record_type, ref_record)[ref.column]
                if (item[0] if isinstance(item, tuple) else item) != record_id
            ]
            changes.changes += update(
                session,
                ref.record_type,
                ref.record_id,
                {ref.column: kept},
                expected_version=ref_record.version,
                user=user,
            ).changes
        elif _owned(ref, record_type):
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
            m.stored_id(citation.id),
            expected_version=citation.version,
            user=user,
        ).changes
    old = snapshot(session, record_type, record)
    _apply_links(session, record_type, record_id, {k: [] for k in link_fields(record_type)})
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


def delete_many(session: Session, record_type: str, versions: dict[int, int], *, user: str) -> list[Change]:
    """Delete many records of one type (an import taken back), each at the version given, as
    ``delete`` would and logged the same way. Records something still points at (or a version
    that moved on) go through ``delete`` one by one, which refuses them with its usual message."""
    cls = m.RECORD_TYPES[record_type]
    table = cls.__table__
    kind = schema.kind(record_type)
    wanted = sorted(versions)
    changes: list[Change] = []
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        held = {
            int(i): int(v)
            for i, v in session.execute(sa.select(table.c.id, table.c.version).where(table.c.id.in_(chunk)))
        }
        pointed = set()
        for ref_type, column in schema.references().get(record_type, []):
            ref_col = m.RECORD_TYPES[ref_type].__table__.c[column]
            pointed |= set(session.execute(sa.select(ref_col).where(ref_col.in_(chunk)).distinct()).scalars())
        for other in schema.kinds():
            for link in other.links:
                if link.target == record_type:
                    target = link.table.__table__.c[link.target_key]  # type: ignore[attr-defined]
                    pointed |= set(session.execute(sa.select(target).where(target.in_(chunk)).distinct()).scalars())
        cited = m.Citation.__table__.c
        pointed |= set(
            session.execute(
                sa.select(cited.record_id)
                .where(cited.record_type == record_type, cited.record_id.in_(chunk))
                .distinct()
            ).scalars()
        )
        simple = [i for i in chunk if i in held and held[i] == versions[i] and i not in pointed]
        for record_id in chunk:
            if record_id in held and record_id not in simple:
                changes += delete(
                    session, record_type, record_id, expected_version=versions[record_id], user=user
                ).changes
        if not simple:
            continue
        names = [f.name for f in kind.fields]
        rows = session.execute(
            sa.select(table.c.id, table.c.uuid, *(table.c[n] for n in names)).where(table.c.id.in_(simple))
        )
        olds: dict[int, tuple[str, dict[str, Any]]] = {
            int(r[0]): (str(r[1]), dict(zip(names, r[2:], strict=True))) for r in rows
        }
        for link in kind.links:
            own = link.table.__table__.c[link.own_key]  # type: ignore[attr-defined]
            target = link.table.__table__.c[link.target_key]  # type: ignore[attr-defined]
            cols = [own, target, link.table.__table__.c.role] if link.roles else [own, target]  # type: ignore[attr-defined]
            for row in session.execute(sa.select(*cols).where(own.in_(simple))):
                item = (int(row[1]), str(row[2])) if link.roles else int(row[1])
                olds[int(row[0])][1].setdefault(link.name, []).append(item)
            session.execute(sa.delete(link.table.__table__).where(own.in_(simple)))  # type: ignore[attr-defined]
        now = m.utcnow()
        log_rows = []
        for record_id in simple:
            record_uuid, old = olds[record_id]
            for link in kind.links:
                old[link.name] = sorted(old.get(link.name, []))
            gone = [(k, v, None) for k, v in old.items() if v not in (None, "", [])]
            log_rows += [
                {
                    "at": now,
                    "user": user,
                    "action": "delete",
                    "record_type": record_type,
                    "record_id": record_id,
                    "record_uuid": record_uuid,
                    "field": name,
                    "old_value": as_text(value),
                    "new_value": None,
                }
                for name, value, _new in gone
            ]
            changes.append(Change("delete", record_type, record_id, _diff(gone)))
        if log_rows:
            session.execute(sa.insert(m.ChangeLog.__table__), log_rows)
        search.unindex(session.connection(), record_type, simple)
        session.execute(sa.delete(table).where(table.c.id.in_(simple)))
    session.expire_all()  # objects of the session may stand for rows deleted here
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
        image(session, "citation", m.stored_id(c.id))
        for c in session.exec(
            select(m.Citation).where(m.Citation.record_type == record_type, m.Citation.record_id == record_id)
        ).all()
    ]
    detached: list[tuple[str, int, str, Any]] = []
    for ref in references_to(session, record_type, record_id):
        if _owned(ref, record_type):
            citations.append(image(session, ref.record_type, ref.record_id))
        elif ref.column in link_fields(ref.record_type):
            linked = snapshot(session, ref.record_type, get(session, ref.record_type, ref.record_id))[ref.column]
            item = next(i for i in linked if (i[0] if isinstance(i, tuple) else i) == record_id)
            detached.append((ref.record_type, ref.record_id, ref.column, item))
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
        if column in link_fields(rtype):
            current = snapshot(session, rtype, record)[column]
            as_key = tuple if isinstance(value, list | tuple) else int
            new: Any = sorted({*(as_key(x) for x in current), as_key(value)})
        else:
            new = value
        changes.changes += update(
            session, rtype, rid, {column: new}, expected_version=record.version, user=user
        ).changes
    return changes
