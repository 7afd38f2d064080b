"""Record pickers: a few records matching what the analyst typed, at any database size.

A picker never lists a whole table (a million-record database has 100,000 organisations and
50,000 events); it asks for the first few matches of the text typed so far:

1. names that *start* with the text, through the index on the name/title column (an index range
   per likely capitalisation: SQLite's LIKE cannot use a case-sensitive index);
2. if those are fewer than asked for, names that *contain* the text: through the FTS5 trigram
   index on big tables (capped, because text frequent in other record types would make the
   index read every one of those rows), else by scanning the name column, which stops as soon
   as enough rows match (a few ms for a table of 20,000; about 25 ms for 100,000 organisations
   when almost none match).

The matches are ordered prefix first, then names with a word starting with the text, then the
rest, each alphabetically.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from explorer import models as m
from explorer.store.search import INDEXED, MIN_TRIGRAM

# Tables up to this many rows are scanned (a few ms at most); bigger ones try the FTS index first.
SCAN_ROWS = 20_000
# Index hits read (of any record type) before the FTS answer is given up for a scan of the table.
FTS_HITS = 500
_TOP = "\U0010ffff"  # sorts after every character: the upper bound of a prefix range


def label_column(record_type: str) -> str:
    """The column a record is known by in pickers and lists."""
    cls = m.RECORD_TYPES[record_type]
    return {"citation": "section", "storystep": "caption"}.get(
        record_type, "title" if "title" in cls.model_fields else "name"
    )


def _table_and_label(record_type: str) -> tuple[sa.Table, sa.Column[str]]:
    table = m.RECORD_TYPES[record_type].__table__
    return table, table.c[label_column(record_type)]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _capitalisations(text: str) -> list[str]:
    variants = [text, text[:1].upper() + text[1:], text.lower(), text.upper(), text.title()]
    return list(dict.fromkeys(variants))


def _rank(label: str, text: str) -> int:
    """0: the name starts with the text; 1: one of its words does; 2: it only contains it."""
    folded, wanted = label.casefold(), text.casefold()
    if folded.startswith(wanted):
        return 0
    return 1 if f" {wanted}" in folded else 2


def _prefixed(conn: Connection, record_type: str, text: str, limit: int, exclude: int | None) -> list[tuple[int, str]]:
    table, label = _table_and_label(record_type)
    cond = [table.c.id != exclude] if exclude is not None else []
    if conn.dialect.name != "sqlite":
        query = sa.select(table.c.id, label).where(
            sa.func.lower(label).like(_escape_like(text.lower()) + "%", escape="\\"), *cond
        )
        return [tuple(r) for r in conn.execute(query.order_by(label, table.c.id).limit(limit))]
    rows: dict[int, str] = {}
    for variant in _capitalisations(text):
        query = sa.select(table.c.id, label).where(label >= variant, label < variant + _TOP, *cond)
        rows.update((int(i), str(n)) for i, n in conn.execute(query.order_by(label).limit(limit)))
    return list(rows.items())


def _contained(conn: Connection, record_type: str, text: str, limit: int, exclude: int | None) -> list[tuple[int, str]]:
    table, label = _table_and_label(record_type)
    if conn.dialect.name == "sqlite" and record_type in INDEXED and len(text) >= MIN_TRIGRAM:
        size = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        if size > SCAN_ROWS:
            found = _fts_contained(conn, record_type, text, limit, exclude)
            if found is not None:
                return found
    escaped = _escape_like(text)
    # ESCAPE costs SQLite a slower LIKE on every row: only when the text needs it. SQLite's LIKE
    # already ignores ASCII case (lower() would cost a function call per row).
    if conn.dialect.name == "sqlite":
        cond = label.like(f"%{text}%") if escaped == text else label.like(f"%{escaped}%", escape="\\")
    else:
        cond = label.ilike(f"%{escaped}%", escape="\\")
    query = sa.select(table.c.id, label).where(cond, *([table.c.id != exclude] if exclude is not None else []))
    return [(int(i), str(n)) for i, n in conn.execute(query.limit(limit))]


def _fts_contained(
    conn: Connection, record_type: str, text: str, limit: int, exclude: int | None
) -> list[tuple[int, str]] | None:
    """Records of the type whose title contains the text (all of them, or at least ``limit``), or
    None when the text is too common in the index to answer quickly (the caller scans the table)."""
    rows = conn.execute(
        sa.text(
            "WITH hits AS MATERIALIZED (SELECT record_type, record_id FROM search_index "
            "WHERE search_index MATCH :q LIMIT :cap) "
            "SELECT record_id, 0 FROM hits WHERE record_type = :t "
            "UNION ALL SELECT -1, count(*) FROM hits"
        ),
        # the whole text as one quoted string: a trigram index then matches it as a substring
        {"q": 'title : "' + text.replace('"', '""') + '"', "cap": FTS_HITS, "t": record_type},
    ).all()
    # names as they are in the table now (the index is rebuilt lazily after some bulk writes)
    current = labels(conn, record_type, [int(i) for i, _zero in rows[:-1]])
    wanted = text.casefold()
    found = [(i, name) for i, name in current.items() if i != exclude and wanted in name.casefold()]
    if int(rows[-1][1]) >= FTS_HITS and len(found) < limit:
        return None  # the cap cut the hits short: some records of this type may be missing
    return found


def pick(
    conn: Connection, record_type: str, text: str, limit: int = 50, exclude: int | None = None
) -> list[tuple[int, str]]:
    """(id, label) of at most ``limit`` records of the type matching ``text``; the first ones by
    name when ``text`` is blank. ``exclude`` leaves one record out (a sector is not its own parent)."""
    table, label = _table_and_label(record_type)
    text = " ".join(text.split())
    if not text:
        query = sa.select(table.c.id, label)
        if exclude is not None:
            query = query.where(table.c.id != exclude)
        rows = conn.execute(query.order_by(label, table.c.id).limit(limit))
        return [(int(i), str(n or "")) for i, n in rows]
    found = dict(_prefixed(conn, record_type, text, limit, exclude))
    if len(found) < limit:
        for rid, name in _contained(conn, record_type, text, limit, exclude):
            found.setdefault(rid, name)
    ordered = sorted(found.items(), key=lambda row: (_rank(row[1], text), row[1].casefold(), row[0]))
    return ordered[:limit]


def labels(conn: Connection, record_type: str, ids: Iterable[int]) -> dict[int, str]:
    """id → label of the given records (the ones that exist)."""
    table, label = _table_and_label(record_type)
    wanted = sorted({int(i) for i in ids})
    out: dict[int, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        out.update(
            (int(i), str(n or "")) for i, n in conn.execute(sa.select(table.c.id, label).where(table.c.id.in_(chunk)))
        )
    return out
