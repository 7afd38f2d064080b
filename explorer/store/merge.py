"""Merging another analyst's database file into this one, field by field, by UUID.

Who changed what since the two files parted is read from their change logs. Each log keeps,
per record and field, every value written, with when and by whom. Two copies of one file share
those entries up to the moment they parted (that shared history is the **common ancestor**);
a merge copies the other side's entries for what it takes. So a side *changed* a field since
the ancestor if its history holds entries (time, user, action, value) the other's does not. Then:

- a field that differs and changed on their side only → their value is taken;
- changed on my side only → mine is kept;
- changed on both sides (or on neither, when the logs cannot tell) → listed for review;
- a record only in their file comes in (unless my log says I deleted it: listed, not revived);
- a record only in my file is kept.

Nothing is written until :func:`apply` runs with a choice for every listed field. Applying copies
their history entries for every field it reviewed into my log (after a "keep mine" choice, my
value is logged again after theirs), so merging the same file again finds nothing new, and a
later edit on either side is told apart correctly. Records written without a change log (bulk
generated data) cannot be told apart: a difference there is always listed for review. Their file
is never written: it is copied with SQLite's backup API and the copy is read (upgraded if older).
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from explorer import models as m
from explorer import schema
from explorer.store import exchange, search, validation, writes
from explorer.store.changes import Change, ChangeSet
from explorer.store.database import copy_sqlite, inspect_sqlite_file, open_database, url_for
from explorer.store.errors import NotADatabaseError, StoreError
from explorer.store.queries import record_label as queries_label

COMPARE_SKIP = {"uuid", *exchange.INFO_COLUMNS}
MINE, THEIRS = "mine", "theirs"

LogEntry = tuple[str, str, str, str | None]  # (at, user, action, new value)


@dataclass(frozen=True)
class FieldChange:
    record_type: str
    uuid: str
    label: str
    column: str  # as in exported files (country_uuid, participants…)
    mine: Any
    theirs: Any

    @property
    def key(self) -> tuple[str, str]:
        return (self.uuid, self.column)


@dataclass
class MergePlan:
    other: Path
    new_records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    take_theirs: list[FieldChange] = field(default_factory=list)
    kept_mine: list[FieldChange] = field(default_factory=list)
    conflicts: list[FieldChange] = field(default_factory=list)
    deleted_here: list[tuple[str, str, str]] = field(default_factory=list)  # (type, uuid, label)
    only_mine: int = 0
    problems: list[exchange.Problem] = field(default_factory=list)
    versions: dict[tuple[str, str], int] = field(default_factory=dict)  # my versions when planned: (type, uuid)
    their_log: dict[tuple[str, str], list[LogEntry]] = field(default_factory=dict)  # all, for new records
    their_extra: dict[tuple[str, str], list[LogEntry]] = field(default_factory=dict)  # entries I lack, per field
    # Their records with another UUID that are the same as one here by natural key (a place's name,
    # an event's title and date): (type, their uuid, my uuid, label) — linked to mine, not added twice.
    matched: list[tuple[str, str, str, str]] = field(default_factory=list)

    def new_count(self) -> int:
        return sum(len(rows) for rows in self.new_records.values())

    @property
    def empty(self) -> bool:
        return not (self.new_count() or self.take_theirs or self.conflicts)

    def summary(self) -> str:
        lines = [
            f"Merging {self.other.name}:",
            f"  {self.new_count()} new record(s) come in",
            f"  {len(self.take_theirs)} field(s) changed only in their file are taken",
            f"  {len(self.kept_mine)} field(s) changed only here are kept",
            f"  {len(self.conflicts)} field(s) changed on both sides need your choice",
        ]
        if self.matched:
            lines.append(
                f"  {len(self.matched)} record(s) of theirs are the same as records here by name (and date): "
                "linked to those, not added twice"
            )
            lines += [f"    {rt} “{label}”" for rt, _theirs, _mine, label in self.matched]
        if self.deleted_here:
            lines.append(f"  {len(self.deleted_here)} record(s) you deleted are still in their file (not revived)")
        if self.only_mine:
            lines.append(f"  {self.only_mine} record(s) only here are kept")
        for c in self.conflicts:
            lines.append(f"    {c.record_type} “{c.label}” {c.column}: here {_show(c.mine)} | theirs {_show(c.theirs)}")
        lines += [f"  problem: {p}" for p in self.problems]
        return "\n".join(lines)


@dataclass
class MergeResult:
    created: int
    updated: int
    backup: Path | None
    changes: ChangeSet
    undo: MergeUndo | None = None


# Link tables of a record, restored with it: (record type, table, column naming the record).
LINK_TABLES = (("deal", "dealorganisation", "deal_id"), ("event", "eventparticipant", "event_id"))


@dataclass
class MergeUndo:
    """Enough to put the database back exactly as before a merge: the rows it changed as they
    were (versions and times included), what it created, and the log rows it wrote."""

    images: list[tuple[str, dict[str, Any]]]  # (type, the whole row before)
    links: dict[tuple[str, int], list[dict[str, Any]]]  # link rows of each changed deal or event
    created: list[tuple[str, int]]
    versions: dict[tuple[str, int], int]  # every touched record's version right after the merge
    log_ids: tuple[int, int]  # the change log rows the merge wrote: first < id <= last


def _show(value: Any) -> str:
    if value in (None, "", []):
        return "(empty)"
    return str(value)


def _log_field(record_type: str, column: str) -> str:
    """The change log's name for an exported column."""
    if column == "participants":
        return "participant_ids"
    if column.endswith("_uuid"):
        return column[: -len("_uuid")] + "_id"
    return column


def _norm_time(value: str | dt.datetime) -> str:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.replace(microsecond=0).isoformat()


def read_log(session: Session) -> tuple[dict[tuple[str, str], list[LogEntry]], set[str]]:
    """Per (record UUID, field) the history of values, oldest first; and the UUIDs deleted."""
    history: dict[tuple[str, str], list[LogEntry]] = defaultdict(list)
    deleted: set[str] = set()
    t = m.ChangeLog.__table__
    query = sa.select(t.c.at, t.c.user, t.c.action, t.c.record_uuid, t.c.field, t.c.new_value).order_by(t.c.id)
    for at, user, action, uid, name, new in session.connection().execute(query):
        if action == "delete":
            deleted.add(uid)
        if name is None:
            continue  # record-level notes (merges) are not field values
        history[(uid, name)].append((_norm_time(at), user, action, new))
    return history, deleted


def _extra(entries: list[LogEntry], other: list[LogEntry]) -> list[LogEntry]:
    """Entries of one history the other lacks: what that side wrote since they parted."""
    known = set(other)
    return [e for e in entries if e not in known]


def _label(record_type: str, row: dict[str, Any]) -> str:
    for key in ("title", "name", "section", "caption", "code"):
        if row.get(key):
            return str(row[key])
    return str(row["uuid"])


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return a is not None and b is not None and float(a) == float(b)
        except (TypeError, ValueError):
            return False
    if isinstance(a, list) and isinstance(b, list):
        return sorted(map(str, a)) == sorted(map(str, b))
    return bool(a == b)


def read_other(other: Path) -> tuple[dict[str, list[dict[str, Any]]], dict[tuple[str, str], list[LogEntry]], set[str]]:
    """Their records and history, read from a private copy (their file is never written)."""
    state = inspect_sqlite_file(other)
    if state.foreign_tables:
        raise NotADatabaseError(f"{other.name} is not a Partnership Explorer database. Nothing was merged.")
    with tempfile.TemporaryDirectory(prefix="explorer-merge-") as tmp:
        copy = Path(tmp) / "theirs.sqlite"
        copy_sqlite(other, copy)
        opened = open_database(url_for(copy))  # upgrades the copy if their version was older
        try:
            with Session(opened.engine) as session:
                rows = exchange.export_rows(session)
                history, deleted = read_log(session)
        finally:
            opened.engine.dispose()
        shutil.rmtree(tmp, ignore_errors=True)
    return rows, history, deleted


def plan(session: Session, other: Path) -> MergePlan:
    """Compare my database with their file; writes nothing."""
    theirs, their_log, _their_deleted = read_other(other)
    mine = exchange.export_rows(session)
    my_log, my_deleted = read_log(session)
    result = MergePlan(other=other, their_log=their_log)
    for rt in exchange.TYPE_ORDER:
        my_rows = {r["uuid"]: r for r in mine.get(rt, [])}
        their_rows = {r["uuid"]: r for r in theirs.get(rt, [])}
        result.only_mine += len(set(my_rows) - set(their_rows))
        for uid, theirs_row in their_rows.items():
            mine_row = my_rows.get(uid)
            if mine_row is None:
                if uid in my_deleted:
                    result.deleted_here.append((rt, uid, _label(rt, theirs_row)))
                else:
                    result.new_records.setdefault(rt, []).append(theirs_row)
                continue
            result.versions[(rt, uid)] = int(mine_row["version"])
            for column in exchange.columns(rt):
                if column in COMPARE_SKIP or _same(mine_row.get(column), theirs_row.get(column)):
                    continue
                key = (uid, _log_field(rt, column))
                a, b = my_log.get(key, []), their_log.get(key, [])
                result.their_extra[key] = _extra(b, a)
                change = FieldChange(
                    rt, uid, _label(rt, mine_row), column, mine_row.get(column), theirs_row.get(column)
                )
                mine_changed, theirs_changed = bool(_extra(a, b)), bool(result.their_extra[key])
                if theirs_changed and not mine_changed:
                    result.take_theirs.append(change)
                elif mine_changed and not theirs_changed:
                    result.kept_mine.append(change)
                else:
                    result.conflicts.append(change)
    _match_by_natural_key(result, mine)
    # New records are checked like an import before anything is written.
    raws = [
        exchange.RawRow(rt, f"{other.name} ▸ {rt}", n, row, False)
        for rt in exchange.TYPE_ORDER
        for n, row in enumerate(result.new_records.get(rt, []), start=1)
    ]
    report = exchange.check_rows(session, raws)
    result.problems = list(report.problems)
    return result


def _model_values(
    session: Session,
    record_type: str,
    changes: list[FieldChange],
    choices: dict[tuple[str, str], str],
    ids: dict[tuple[str, str], int],
) -> dict[str, Any]:
    """Their exported values (UUID references) as values for writes.update (local ids)."""

    def local(target: str, ref: str) -> int:
        if (target, ref) not in ids:
            cls = m.RECORD_TYPES[target]
            found = session.exec(select(cls.id).where(cls.uuid == ref)).first()
            if found is None:
                raise StoreError(f"Their {record_type} points at a {target} that is in neither database.")
            ids[(target, ref)] = int(found)
        return ids[(target, ref)]

    targets = exchange._targets(record_type)
    values: dict[str, Any] = {}
    for change in changes:
        if choices.get(change.key, THEIRS) != THEIRS:
            continue
        value = change.theirs
        column = change.column
        if column == "participants":
            values["participant_ids"] = [local("person", p) for p in value or []]
        elif column == "organisations":
            values["organisations"] = [(local("organisation", o), role) for o, role in value or []]
        elif column in targets:
            name = _log_field(record_type, column)
            if value is None:
                values[name] = None
            else:
                target = targets[column] or str(
                    values.get("record_type") or _current(session, record_type, change.uuid, "record_type")
                )
                values[name] = local(target, value)
        else:
            values[column] = value
    return values


def _current(session: Session, record_type: str, uid: str, name: str) -> Any:
    cls = m.RECORD_TYPES[record_type]
    record = session.exec(select(cls).where(cls.uuid == uid)).one()
    return getattr(record, name)


def _natural(record_type: str, row: dict[str, Any]) -> tuple[str, ...] | None:
    """A record's natural key as an exported row holds it (references by UUID), or None if incomplete."""
    kind = schema.kind(record_type)
    key = []
    for name in kind.natural_key:
        fs = kind.field(name)
        value = row.get(exchange.ref_column(name) if fs is not None and fs.kind == "ref" else name)
        if value in (None, ""):
            return None
        key.append(" ".join(str(value).casefold().split()))
    return tuple(key)


def _match_by_natural_key(result: MergePlan, mine: dict[str, list[dict[str, Any]]]) -> None:
    """Their new records that are records here under another UUID become matches; every reference
    to them in their other new records is turned to my record's UUID."""
    remap: dict[str, str] = {}
    for rt in exchange.TYPE_ORDER:
        rows = result.new_records.get(rt, [])
        kind = schema.kind(rt)
        if not rows or kind.owned_by is not None:
            continue
        for row in rows:
            _rewrite(row, remap)  # a key may name a matched record (a target's initiative)
        here: dict[tuple[str, ...], str] = {}
        for row in mine.get(rt, []):
            key = _natural(rt, row)
            if key is not None:
                here.setdefault(key, str(row["uuid"]))
        kept = []
        for row in rows:
            key = _natural(rt, row)
            if key is not None and key in here:
                remap[str(row["uuid"])] = here[key]
                result.matched.append((rt, str(row["uuid"]), here[key], _label(rt, row)))
            else:
                kept.append(row)
        result.new_records[rt] = kept
    if remap:
        for rows in result.new_records.values():
            for row in rows:
                _rewrite(row, remap)


def _rewrite(row: dict[str, Any], remap: dict[str, str]) -> None:
    for column, value in list(row.items()):
        if column == "uuid":
            continue
        if isinstance(value, str) and value in remap:
            row[column] = remap[value]
        elif isinstance(value, list):
            row[column] = [
                [remap.get(v[0], v[0]), *v[1:]]
                if isinstance(v, list) and v
                else remap.get(v, v)
                if isinstance(v, str)
                else v
                for v in value
            ]


def apply(session: Session, the_plan: MergePlan, choices: dict[tuple[str, str], str], *, user: str) -> MergeResult:
    """Write the merge in the caller's transaction. ``choices`` maps each conflict's
    (uuid, column) to "mine" or "theirs"; every conflict needs one."""
    missing = [c for c in the_plan.conflicts if choices.get(c.key) not in (MINE, THEIRS)]
    if missing:
        raise StoreError(
            f"Choose “mine” or “theirs” for every field changed on both sides "
            f"({len(missing)} left). Nothing was merged."
        )
    if the_plan.problems:
        raise StoreError(
            "Their file has records that cannot be merged:\n" + "\n".join(str(p) for p in the_plan.problems[:20])
        )
    log_table = m.ChangeLog.__table__
    first_new_log = int(
        session.connection().execute(sa.select(sa.func.coalesce(sa.func.max(log_table.c.id), 0))).scalar_one()
    )
    # Anything changed here since the plan was made must be reviewed again.
    by_type: dict[str, list[str]] = defaultdict(list)
    for rt, uid in the_plan.versions:
        by_type[rt].append(uid)
    for rt, uids in by_type.items():
        cls = m.RECORD_TYPES[rt]
        for start in range(0, len(uids), 500):
            now = dict(
                session.exec(select(cls.uuid, cls.version).where(col(cls.uuid).in_(uids[start : start + 500]))).all()
            )
            if any(now.get(uid) != the_plan.versions[(rt, uid)] for uid in uids[start : start + 500]):
                raise StoreError(
                    "This database changed after the merge was reviewed. Review the merge again; nothing was merged."
                )
    raws = [
        exchange.RawRow(rt, f"{the_plan.other.name} ▸ {rt}", n, row, False)
        for rt in exchange.TYPE_ORDER
        for n, row in enumerate(the_plan.new_records.get(rt, []), start=1)
    ]
    imported = exchange.apply_rows(session, raws, user=user) if raws else exchange.ImportResult(exchange.ImportReport())
    changes = ChangeSet(list(imported.changes.changes))
    ids: dict[tuple[str, str], int] = {}
    taken: list[FieldChange] = [*the_plan.take_theirs, *(c for c in the_plan.conflicts if choices.get(c.key) == THEIRS)]
    by_record: dict[tuple[str, str], list[FieldChange]] = defaultdict(list)
    for change in taken:
        by_record[(change.record_type, change.uuid)].append(change)
    images: list[tuple[str, dict[str, Any]]] = []
    links: dict[tuple[str, int], list[dict[str, Any]]] = {}
    conn = session.connection()
    for rt, uid in by_record:
        table = m.RECORD_TYPES[rt].__table__
        row = conn.execute(sa.select(table).where(table.c.uuid == uid)).mappings().one()
        images.append((rt, dict(row)))
        for link_type, link_table, column in LINK_TABLES:
            if link_type == rt:
                lt = m.SQLModel.metadata.tables[link_table]
                links[(rt, int(row["id"]))] = [
                    dict(r) for r in conn.execute(sa.select(lt).where(lt.c[column] == row["id"])).mappings()
                ]
    updated = 0
    for (rt, uid), fields in by_record.items():
        values = _model_values(session, rt, fields, {c.key: THEIRS for c in fields}, ids)
        cls = m.RECORD_TYPES[rt]
        record = session.exec(select(cls).where(cls.uuid == uid)).one()
        change_set = writes.update(
            session,
            rt,
            m.stored_id(record.id),
            values,
            expected_version=record.version,
            user=user,
        )
        changes.changes += change_set.changes
        updated += bool(change_set)
    session.flush()
    _adopt_history(session, the_plan, taken, first_new_log, user)
    kept = [c for c in the_plan.conflicts if choices.get(c.key) == MINE]
    _adopt_kept(session, the_plan, kept, user)
    session.flush()
    touched = [*imported.created, *((rt, int(image["id"])) for rt, image in images)]
    versions = {}
    for rt, rid in touched:
        current = session.get(m.RECORD_TYPES[rt], rid)
        if current is not None:
            versions[(rt, rid)] = current.version
    last_log = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(log_table.c.id), 0))).scalar_one())
    undo = MergeUndo(images, links, list(imported.created), versions, (first_new_log, last_log))
    return MergeResult(sum(imported.report.new.values()), updated, None, changes, undo)


def undo(session: Session, undo_info: MergeUndo) -> ChangeSet:
    """Put back what a merge changed, exactly (rows, links, history); refused, with nothing
    undone, when someone edited a merged record since."""
    moved = []
    for (rt, rid), version in undo_info.versions.items():
        record = session.get(m.RECORD_TYPES[rt], rid)
        if record is None or record.version != version:
            moved.append(f"{rt} “{queries_label(record) if record is not None else rid}”")
    if moved:
        raise StoreError(
            "Records this merge brought in were changed since: "
            + ", ".join(moved[:8])
            + (" …" if len(moved) > 8 else "")
            + ". Nothing was undone; restore the backup made "
            "before the merge (File ▸ Backups…) to go back anyway."
        )
    conn = session.connection()
    changes = ChangeSet()
    for (rt, rid), rows in undo_info.links.items():
        link_type, link_table, column = next(t for t in LINK_TABLES if t[0] == rt)
        lt = m.SQLModel.metadata.tables[link_table]
        conn.execute(sa.delete(lt).where(lt.c[column] == rid))
        if rows:
            conn.execute(sa.insert(lt), rows)
    for rt, row in undo_info.images:
        table = m.RECORD_TYPES[rt].__table__
        conn.execute(sa.update(table).where(table.c.id == row["id"]).values(**row))
        changes.changes.append(Change("update", rt, int(row["id"])))
    for rt, rid in reversed(undo_info.created):
        table = m.RECORD_TYPES[rt].__table__
        for link_type, link_table, column in LINK_TABLES:
            if link_type == rt:
                lt = m.SQLModel.metadata.tables[link_table]
                conn.execute(sa.delete(lt).where(lt.c[column] == rid))
        conn.execute(sa.delete(table).where(table.c.id == rid))
        changes.changes.append(Change("delete", rt, rid))
    log_table = m.ChangeLog.__table__
    first, last = undo_info.log_ids
    conn.execute(sa.delete(log_table).where(log_table.c.id > first, log_table.c.id <= last))
    by_type: dict[str, list[int]] = defaultdict(list)
    for change in changes.changes:
        by_type[change.record_type].append(change.record_id)
    for rt, ids in by_type.items():
        search.reindex(conn, rt, ids)
    return changes


def _adopt_history(
    session: Session, the_plan: MergePlan, taken: list[FieldChange], first_new_log: int, user: str
) -> None:
    """Replace the log rows this merge wrote with their history for the same values (see module doc)."""
    conn = session.connection()
    log_table = m.ChangeLog.__table__
    new_uuids = {r["uuid"] for rows in the_plan.new_records.values() for r in rows}
    fields_taken = {(c.uuid, _log_field(c.record_type, c.column)) for c in taken}
    written = conn.execute(
        sa.select(
            log_table.c.id, log_table.c.record_uuid, log_table.c.field, log_table.c.record_type, log_table.c.record_id
        ).where(log_table.c.id > first_new_log)
    ).all()
    drop = [
        row.id
        for row in written
        if row.field is not None and (row.record_uuid in new_uuids or (row.record_uuid, row.field) in fields_taken)
    ]
    for start in range(0, len(drop), 500):
        conn.execute(sa.delete(log_table).where(log_table.c.id.in_(drop[start : start + 500])))
    where_is: dict[str, tuple[str, int]] = {}
    for rt, cls in m.RECORD_TYPES.items():
        wanted = list(new_uuids | {u for u, _f in fields_taken})
        for start in range(0, len(wanted), 500):
            for uid, rid in session.exec(
                select(cls.uuid, cls.id).where(col(cls.uuid).in_(wanted[start : start + 500]))
            ):
                where_is[uid] = (rt, m.stored_id(rid))
    rows: list[dict[str, Any]] = []
    copies = [
        *((k, e) for k, e in the_plan.their_log.items() if k[0] in new_uuids),
        *((k, the_plan.their_extra.get(k, [])) for k in sorted(fields_taken)),
    ]
    for (uid, name), entries in copies:
        if uid in where_is:
            rows += _log_rows(where_is[uid], uid, name, entries)
    now = m.utcnow()
    for uid in sorted(new_uuids | {u for u, _f in fields_taken}):
        if uid in where_is:
            rt, rid = where_is[uid]
            rows.append(
                {
                    "at": now,
                    "user": user,
                    "action": "merge",
                    "record_type": rt,
                    "record_id": rid,
                    "record_uuid": uid,
                    "field": None,
                    "old_value": None,
                    "new_value": f"merged from {the_plan.other.name}",
                }
            )
    if rows:
        conn.execute(sa.insert(log_table), rows)


def _log_rows(where: tuple[str, int], uid: str, name: str, entries: list[LogEntry]) -> list[dict[str, Any]]:
    rt, rid = where
    return [
        {
            "at": dt.datetime.fromisoformat(at).replace(tzinfo=dt.UTC),
            "user": who,
            "action": action,
            "record_type": rt,
            "record_id": rid,
            "record_uuid": uid,
            "field": name,
            "old_value": None,
            "new_value": new,
        }
        for at, who, action, new in entries
    ]


def _adopt_kept(session: Session, the_plan: MergePlan, kept: list[FieldChange], user: str) -> None:
    """After "keep mine": their entries join my history, then my value is logged again as the latest,
    so the history reads true and the next merge knows I have seen their edit."""
    if not kept:
        return
    rows: list[dict[str, Any]] = []
    now = m.utcnow()
    for change in kept:
        cls = m.RECORD_TYPES[change.record_type]
        record = session.exec(select(cls).where(cls.uuid == change.uuid)).one()
        name = _log_field(change.record_type, change.column)
        where = (change.record_type, m.stored_id(record.id))
        rows += _log_rows(where, change.uuid, name, the_plan.their_extra.get((change.uuid, name), []))
        value = writes.snapshot(session, change.record_type, record).get(name)
        rows.append(
            {
                "at": now,
                "user": user,
                "action": "update",
                "record_type": change.record_type,
                "record_id": where[1],
                "record_uuid": change.uuid,
                "field": name,
                "old_value": writes.as_text(change.theirs),
                "new_value": writes.as_text(value),
            }
        )
    session.connection().execute(sa.insert(m.ChangeLog.__table__), rows)


def known_columns(record_type: str) -> list[str]:
    """Columns compared by a merge (every exported field and link)."""
    return [c for c in exchange.columns(record_type) if c not in COMPARE_SKIP]


# The field labels forms use, for showing a conflict to a person.
def column_label(record_type: str, column: str) -> str:
    name = _log_field(record_type, column)
    spec = validation.spec(record_type, name)
    if spec is not None:
        return spec.label
    return {"participants": "Participants", "organisations": "Organisations"}.get(column, column)
