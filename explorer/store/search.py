"""Full-text search index: what each record type contributes, and keeping it in sync."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from explorer import models as m

# Which columns make a record findable: (title column, extra text columns).
INDEXED: dict[str, tuple[str, tuple[str, ...]]] = {
    "country": ("name", ("code",)),
    "place": ("name", ("kind",)),
    "person": ("name", ("native_name", "role", "notes")),
    "sector": ("name", ("notes",)),
    "organisation": ("name", ("kind", "notes")),
    "event": ("title", ("kind", "notes")),
    "pledge": ("title", ("currency", "status", "notes")),
    "deal": ("title", ("kind", "status", "notes")),
    "initiative": ("name", ("kind", "notes")),
    "target": ("name", ("unit", "notes")),
    "source": ("title", ("publisher", "notes")),
    "story": ("title", ("notes",)),
}

MIN_TRIGRAM = 3


@dataclass(frozen=True)
class SearchHit:
    record_type: str
    record_id: int
    title: str


def _is_fts(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


def _rows_for(conn: Connection, record_type: str, ids: Iterable[int] | None) -> list[tuple]:
    title, extra = INDEXED[record_type]
    table = m.RECORD_TYPES[record_type].__table__  # type: ignore[attr-defined]
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
