"""Full-text search index: what each record type contributes, and keeping it in sync."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from explorer import models as m
from explorer import schema

# Which columns make a record findable: (title column, extra text columns), per findable type.
INDEXED: schema.PerKind[tuple[str, tuple[str, ...]]] = schema.PerKind(
    lambda k: (k.title, k.search) if k.findable else None
)

MIN_TRIGRAM = 3


@dataclass(frozen=True)
class SearchHit:
    record_type: str
    record_id: int
    title: str


def _is_fts(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


def _rows_for(conn: Connection, record_type: str, ids: Iterable[int] | None) -> list[tuple[Any, ...]]:
    title, extra = INDEXED[record_type]
    table = m.RECORD_TYPES[record_type].__table__
    cols = [table.c.id, table.c[title], *(table.c[c] for c in extra)]
    query = sa.select(*cols)
    if ids is not None:
        query = query.where(table.c.id.in_(list(ids)))
    return [tuple(r) for r in conn.execute(query)]


def reindex(
    conn: Connection, record_type: str, ids: Iterable[int] | None = None, *, titles: Mapping[int, str] | None = None
) -> None:
    """Replace the index rows of the given records (all of the type when ``ids`` is None).

    ``titles``: the title each record is indexed under now (before an edit, or the new one for
    a record just made), so its row is found through the index instead of a scan of it all.
    """
    if record_type not in INDEXED:
        return
    id_list = None if ids is None else list(ids)
    delete = sa.text("DELETE FROM search_index WHERE record_type = :t")
    if id_list is None:
        conn.execute(delete, {"t": record_type})
    elif _is_fts(conn) and titles is not None and all(len(titles.get(i) or "") >= MIN_TRIGRAM for i in id_list):
        # FTS5 cannot index its UNINDEXED columns: matching on those alone reads every row
        # (a third of a second at a million records, on every save). The title narrows it first.
        for record_id in id_list:
            phrase = '"' + titles[record_id].replace('"', '""') + '"'
            conn.execute(
                sa.text(
                    "DELETE FROM search_index WHERE rowid IN (SELECT rowid FROM search_index "
                    "WHERE search_index MATCH :q AND record_type = :t AND record_id = :i)"
                ),
                {"q": "title : " + phrase, "t": record_type, "i": int(record_id)},
            )
    else:
        for chunk_start in range(0, len(id_list), 500):
            chunk = id_list[chunk_start : chunk_start + 500]
            conn.execute(
                sa.text(
                    "DELETE FROM search_index WHERE record_type = :t AND record_id IN "
                    f"({','.join(str(int(i)) for i in chunk)})"
                ),
                {"t": record_type},
            )
    rows = _rows_for(conn, record_type, id_list)
    if rows:
        conn.execute(
            sa.text("INSERT INTO search_index (record_type, record_id, title, body) VALUES (:t, :i, :title, :body)"),
            [
                {
                    "t": record_type,
                    "i": r[0],
                    "title": r[1] or "",
                    "body": " ".join(str(v) for v in r[2:] if v),
                }
                for r in rows
            ],
        )


def index_new(conn: Connection, record_type: str, records: Iterable[tuple[int, Mapping[str, object]]]) -> None:
    """Index records just inserted (a bulk import): their values are at hand and no old row
    can exist, so nothing is deleted or read back."""
    if record_type not in INDEXED:
        return
    title, extra = INDEXED[record_type]
    rows = [
        {
            "t": record_type,
            "i": record_id,
            "title": values.get(title) or "",
            "body": " ".join(str(values.get(c)) for c in extra if values.get(c)),
        }
        for record_id, values in records
    ]
    if rows:
        conn.execute(
            sa.text("INSERT INTO search_index (record_type, record_id, title, body) VALUES (:t, :i, :title, :body)"),
            rows,
        )


def unindex(conn: Connection, record_type: str, ids: list[int]) -> None:
    """Drop the index rows of records about to be deleted together (an import taken back)."""
    if record_type not in INDEXED or not ids:
        return
    conn.execute(
        sa.text(
            f"DELETE FROM search_index WHERE record_type = :t AND record_id IN ({','.join(str(int(i)) for i in ids)})"
        ),
        {"t": record_type},
    )


def indexed_title(record_type: str, values: Mapping[str, object] | object) -> str:
    """The title a record (or a snapshot of its values) is indexed under (see ``reindex``)."""
    if record_type not in INDEXED:
        return ""
    name = INDEXED[record_type][0]
    title = values.get(name) if isinstance(values, Mapping) else getattr(values, name, None)
    return str(title or "")


def rebuild(conn: Connection) -> None:
    for record_type in INDEXED:
        reindex(conn, record_type)
    conn.execute(sa.text("DELETE FROM meta WHERE key = 'search_index_dirty'"))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(conn: Connection, text: str, limit: int = 200) -> list[SearchHit]:
    """Records whose name or notes contain every word of ``text`` (case-insensitive)."""
    words = [w for w in text.split() if w]
    if not words:
        return []
    params: dict[str, object] = {"limit": limit}
    if _is_fts(conn) and all(len(w) >= MIN_TRIGRAM for w in words):
        # Each word quoted as an FTS5 string: no operator in user text can escape it.
        params["q"] = " ".join('"' + w.replace('"', '""') + '"' for w in words)
        sql = (
            "SELECT record_type, record_id, title FROM search_index "
            "WHERE search_index MATCH :q "
            "ORDER BY (title LIKE :first ESCAPE '\\') DESC, length(title) LIMIT :limit"
        )
        params["first"] = f"%{_escape_like(words[0])}%"
    elif conn.dialect.name == "postgresql":
        # Every word must appear inside the title or text (parts of names, as on SQLite's
        # trigram index); PostgreSQL's own full-text ranking puts whole-word matches first.
        clauses = []
        for n, word in enumerate(words):
            params[f"w{n}"] = f"%{_escape_like(word)}%"
            clauses.append(f"(title ILIKE :w{n} OR body ILIKE :w{n})")
        params["q"] = " ".join(words)
        params["first"] = f"%{_escape_like(words[0])}%"
        sql = (
            "SELECT record_type, record_id, title FROM search_index WHERE "
            + " AND ".join(clauses)
            + " ORDER BY (title ILIKE :first) DESC, "
            "ts_rank(to_tsvector('simple', title || ' ' || coalesce(body, '')), plainto_tsquery('simple', :q)) DESC, "
            "length(title) LIMIT :limit"
        )
    else:
        clauses = []
        for n, word in enumerate(words):
            params[f"w{n}"] = f"%{_escape_like(word.lower())}%"
            clauses.append(f"(lower(title) LIKE :w{n} ESCAPE '\\' OR lower(body) LIKE :w{n} ESCAPE '\\')")
        sql = (
            "SELECT record_type, record_id, title FROM search_index WHERE "
            + " AND ".join(clauses)
            + " ORDER BY length(title) LIMIT :limit"
        )
    return [SearchHit(r[0], int(r[1]), r[2]) for r in conn.execute(sa.text(sql), params)]


# --- find anything (the quick-open list) --------------------------------------------------

# Candidates read from the index before ranking: enough that the best titles are among them
# without sorting every match of a common word.
CANDIDATES = 400


def _dated(record_type: str) -> bool:
    found = schema.KINDS.get(record_type)
    return found is not None and found.dated


SHORT_SCAN_ROWS = 5_000  # one- and two-letter finds read tables up to this size (a few ms each)


@dataclass(frozen=True)
class FoundRecord:
    """One line of the find list: the record, its title, its kind and when it happened."""

    record_type: str
    record_id: int
    title: str
    kind: str | None = None
    start_day: int | None = None
    precision: str | None = None


def _rank(record_type: str, title: str, query: str, words: list[str]) -> tuple[int, int, int, int, str]:
    """Exact title, then titles starting with the query, then every word starting a title word
    (earlier words first: "Ishiba" finds Shigeru Ishiba before "Modi and Ishiba visit …"), then
    every word inside the title, then matches in the notes only. Ties go to what the timeline
    shows (typing a company's name picks its deal), then to shorter titles."""
    low = title.lower()
    at = 0
    if low == query:
        bucket = 0
    elif low.startswith(query):
        bucket = 1
    else:
        title_words = low.replace("–", " ").replace("-", " ").split()
        starts = [next((i for i, t in enumerate(title_words) if t.startswith(w)), -1) for w in words]
        if all(i >= 0 for i in starts):
            bucket, at = 2, min(starts)
        elif all(w in low for w in words):
            bucket = 3
        else:
            bucket = 4
    return bucket, at, 0 if _dated(record_type) else 1, len(title), low


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _candidates(conn: Connection, query: str, words: list[str]) -> list[SearchHit]:
    """Up to CANDIDATES matches, the likeliest first, without ranking every match in SQL: at a
    million records a common word matches half of them, and sorting those takes a second."""
    long = [w for w in words if len(w) >= MIN_TRIGRAM]
    if not _is_fts(conn):
        return search(conn, query, CANDIDATES)
    if not long:
        return _short_prefix(conn, query)
    stages = []
    if len(query) >= MIN_TRIGRAM:
        stages.append("title : " + _quoted(query))  # the query as typed, inside a title
    stages.append("title : (" + " ".join(_quoted(w) for w in long) + ")")  # every word in the title
    stages.append(" ".join(_quoted(w) for w in long))  # … or in the notes
    seen: dict[tuple[str, int], SearchHit] = {}
    short = [w for w in words if len(w) < MIN_TRIGRAM]
    for match in stages:
        rows = conn.execute(
            sa.text(
                "SELECT record_type, record_id, title, body FROM search_index WHERE search_index MATCH :q LIMIT :n"
            ),
            {"q": match, "n": CANDIDATES},
        )
        for record_type, record_id, title, body in rows:
            text = f"{title or ''} {body or ''}".lower()
            if all(w in text for w in short):
                seen.setdefault((record_type, int(record_id)), SearchHit(record_type, int(record_id), title or ""))
        if len(seen) >= CANDIDATES // 2:
            break
    return list(seen.values())


def _short_prefix(conn: Connection, query: str) -> list[SearchHit]:
    """One or two letters: titles with a word starting with them, in the tables small enough to read at every
    keystroke (a million deals wait for a third letter)."""
    hits: list[SearchHit] = []
    pattern = _escape_like(query) + "%"
    for record_type, (title_col, _extra) in INDEXED.items():
        table = m.RECORD_TYPES[record_type].__table__
        if int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar() or 0) > SHORT_SCAN_ROWS:
            continue
        col = table.c[title_col]
        low = sa.func.lower(col)
        starts = sa.or_(low.like(pattern, escape="\\"), low.like("% " + pattern, escape="\\"))  # any word
        query_ = sa.select(table.c.id, col).where(starts).limit(CANDIDATES)
        hits += [SearchHit(record_type, int(i), t or "") for i, t in conn.execute(query_)]
    return hits


# Typed into Find anything, these list the records that cite no source yet.
UNCITED_WORDS = {"uncited", "no source", "not cited", "without source"}


def uncited_types() -> list[str]:
    """What "uncited" lists: every type whose form cites sources, what the timeline shows first."""
    cited = [name for name in schema.citeable() if name != "source"]
    return sorted(cited, key=lambda name: not schema.kind(name).dated)


def _uncited(conn: Connection, limit: int) -> list[SearchHit]:
    hits: list[SearchHit] = []
    cite = m.Citation.__table__
    for record_type in uncited_types():
        if len(hits) >= limit:
            break
        table = m.RECORD_TYPES[record_type].__table__
        title = table.c[INDEXED[record_type][0]]
        cited = sa.select(cite.c.id).where(cite.c.record_type == record_type, cite.c.record_id == table.c.id)
        rows = conn.execute(sa.select(table.c.id, title).where(~sa.exists(cited)).limit(limit - len(hits)))
        hits += [SearchHit(record_type, int(i), t or "") for i, t in rows]
    return hits


def find(conn: Connection, text: str, limit: int = 50) -> list[FoundRecord]:
    """The records best matching ``text`` across every type, ranked for picking one ("uncited":
    the records that cite no source yet)."""
    words = [w.lower() for w in text.split() if w]
    if not words:
        return []
    query = " ".join(words)
    if query in UNCITED_WORDS:
        hits = _uncited(conn, limit)
    else:
        hits = _candidates(conn, query, words)
        hits.sort(key=lambda h: _rank(h.record_type, h.title or "", query, words))
        hits = hits[:limit]
    extra: dict[tuple[str, int], tuple[str | None, int | None, str | None]] = {}
    by_type: dict[str, list[int]] = {}
    for hit in hits:
        by_type.setdefault(hit.record_type, []).append(hit.record_id)
    for record_type, ids in by_type.items():
        table = m.RECORD_TYPES[record_type].__table__
        cols = [table.c.id, table.c.kind if "kind" in table.c else sa.null()]
        if _dated(record_type):
            cols += [table.c.start_day, table.c.date_precision]
        for row in conn.execute(sa.select(*cols).where(table.c.id.in_(ids))):
            day = row[2] if _dated(record_type) else None
            precision = row[3] if _dated(record_type) else None
            extra[(record_type, int(row[0]))] = (row[1], day, precision)
    out = []
    for hit in hits:
        kind, day, precision = extra.get((hit.record_type, hit.record_id), (None, None, None))
        out.append(FoundRecord(hit.record_type, hit.record_id, hit.title or "", kind, day, precision))
    return out
