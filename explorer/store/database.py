"""Opening a database safely: inspect first (read-only), refuse clearly, migrate with a backup.

Nothing here writes to a file until it is known to be ours, intact, writable and of a
schema this version understands.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sqlite3
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import QueuePool, StaticPool

from explorer.store import migrate
from explorer.store.errors import (
    CorruptDatabaseError,
    DatabaseLockedError,
    DatabaseMissingError,
    EmptyFileError,
    NewerSchemaError,
    NotADatabaseError,
    ReadOnlyError,
    StoreError,
)

log = logging.getLogger("explorer.store")

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000
# Above this size the full quick_check costs more than a start-up should (about 2 ms per MB
# here: 0.2 s at 100k records); the header, schema and first pages are still read, which
# catches the common damage.
QUICK_CHECK_MAX_BYTES = 48 * 1024 * 1024


@dataclass
class FileState:
    empty: bool  # zero bytes, or a SQLite file with no tables: we may initialise it
    revision: str | None
    foreign_tables: bool  # tables but no alembic_version: somebody else's database
    zero_bytes: bool = False  # an empty file: set up only when the person says so
    wal_at_rest: bool = False  # left in WAL mode by an earlier version: read as immutable


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other backends and in-memory databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(database)


def sidecars(path: Path) -> list[Path]:
    """The files SQLite keeps beside a database while it is in use (or after a crash)."""
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")]


def _wal_at_rest(path: Path, header: bytes) -> bool:
    """A file left in WAL mode (header bytes 18-19) with no -wal beside it: nobody has it open."""
    return header[18:20] == b"\x02\x02" and not path.with_name(path.name + "-wal").exists()


def _ro_uri(path: Path, *, immutable: bool = False) -> str:
    """A read-only URI; ``immutable`` for a WAL-mode file nobody has open (_wal_at_rest).

    A read-only connection to a WAL-mode file creates -wal and -shm files and cannot delete them
    again; read as immutable it creates nothing. Files are kept in rollback mode at rest (settle),
    where read-only connections create nothing either.
    """
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    return uri + "&immutable=1" if immutable else uri


def _header(path: Path) -> bytes:
    """The first 100 bytes. Only for files this process has no connection to: closing any handle
    on a file drops every POSIX lock the process holds on it, SQLite's included."""
    with path.open("rb") as handle:
        return handle.read(100)


def _translate(exc: sqlite3.Error, path: Path) -> StoreError:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return DatabaseLockedError(
            f"{path.name} is locked by another program. Close the other program "
            "(or wait for it to finish) and try again.",
            detail=str(exc),
        )
    if "not a database" in text or "file is encrypted" in text:
        return NotADatabaseError(f"{path.name} is not a database file. It has not been changed.", detail=str(exc))
    return CorruptDatabaseError(
        f"{path.name} is damaged and cannot be opened safely. It has not been changed. "
        "Restore it from a backup, or open another database.",
        detail=str(exc),
    )


def inspect_sqlite_file(path: Path) -> FileState:
    """Look at a SQLite file without changing it; raise a StoreError if we must not open it."""
    if not path.exists():
        raise DatabaseMissingError(f"There is no database at {path}.")
    if path.is_dir():
        raise NotADatabaseError(f"{path} is a folder, not a database file.")
    size = path.stat().st_size
    if size == 0:
        return FileState(empty=True, revision=None, foreign_tables=False, zero_bytes=True)
    try:  # (a file this process has open is not read around SQLite, which checks it below too)
        header = SQLITE_HEADER if in_use(path) else _header(path)
    except PermissionError as exc:
        raise ReadOnlyError(f"You do not have permission to read {path}.") from exc
    if header[: len(SQLITE_HEADER)] != SQLITE_HEADER:
        raise NotADatabaseError(
            f"{path.name} is not a Partnership Explorer database (it is not a SQLite file). It has not been changed."
        )
    wal_at_rest = _wal_at_rest(path, header)
    try:
        conn = sqlite3.connect(_ro_uri(path, immutable=wal_at_rest), uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise _translate(exc, path) from exc
    try:
        if size <= QUICK_CHECK_MAX_BYTES:
            rows = conn.execute("PRAGMA quick_check").fetchall()
            if rows != [("ok",)]:
                raise CorruptDatabaseError(
                    f"{path.name} failed its integrity check and was not opened. "
                    "It has not been changed. Restore it from a backup.",
                    detail="; ".join(str(r[0]) for r in rows[:5]),
                )
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        revision = None
        if "alembic_version" in tables:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
    except sqlite3.Error as exc:
        raise _translate(exc, path) from exc
    finally:
        conn.close()
    user_tables = {t for t in tables if not t.startswith("sqlite_")}
    return FileState(
        empty=not user_tables,
        revision=revision,
        foreign_tables=bool(user_tables) and "alembic_version" not in tables,
        wal_at_rest=wal_at_rest,
    )


def is_writable(path: Path) -> bool:
    target = path if path.exists() else path.parent
    # WAL needs to create -wal and -shm files beside the database.
    return os.access(target, os.W_OK) and os.access(path.parent, os.W_OK)


def _sqlite_connect(path: Path, read_only: bool, immutable: bool = False) -> sqlite3.Connection:
    if read_only:
        conn = sqlite3.connect(
            _ro_uri(path, immutable=immutable),
            uri=True,
            timeout=BUSY_TIMEOUT_MS / 1000,
            check_same_thread=False,
            isolation_level=None,
        )
    else:
        conn = sqlite3.connect(
            str(path),
            timeout=BUSY_TIMEOUT_MS / 1000,
            check_same_thread=False,
            isolation_level=None,
        )
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # No WAL here: switching writes the file and creates -wal/-shm, so the first write does it
    # (_install_sqlite_begin); opening a file changes nothing in its folder.
    return conn


def _use_wal(conn: sa.Connection, path: Path | None) -> None:
    """Before a write: WAL (readers and the writer do not wait for each other), once per file."""
    try:
        conn.exec_driver_sql("PRAGMA journal_mode = WAL")
        conn.exec_driver_sql("PRAGMA synchronous = NORMAL")  # safe in WAL; not in rollback mode
    except sa.exc.OperationalError as exc:  # busy: this write goes ahead in rollback mode
        log.warning("could not switch %s to WAL: %s", path, exc.orig)


def _install_sqlite_begin(engine: Engine, wal_path: Path | None = None) -> None:
    """Let SQLAlchemy begin transactions itself, IMMEDIATE for writers.

    A read-then-write transaction started DEFERRED on WAL fails with SQLITE_BUSY_SNAPSHOT
    when another connection commits in between; IMMEDIATE takes the write lock up front.
    With ``wal_path`` a writer first switches that file to WAL (a no-op once it is).
    """

    @event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if wal_path is not None and mode != "DEFERRED":
            _use_wal(conn, wal_path)
        conn.exec_driver_sql(f"BEGIN {mode}")


def settle(path: Path) -> None:
    """Put a file back in rollback mode once this store is done with it (on close), so read-only
    opens later create no -wal/-shm. It stays in WAL while another connection has it open; a file
    already in rollback mode is not written."""
    if not path.is_file():
        return
    try:  # through SQLite, which keeps other connections' locks on the file (see _header)
        conn = sqlite3.connect(str(path), timeout=0, isolation_level=None)
    except sqlite3.Error:
        return
    try:
        conn.execute("PRAGMA busy_timeout = 0")
        conn.execute("PRAGMA journal_mode = DELETE")
    except sqlite3.Error as exc:  # another window or process has it open: its close settles it
        log.info("%s stays in WAL mode for now: %s", path, exc)
    finally:
        conn.close()


def make_sqlite_engine(path: Path | None, *, read_only: bool, immutable: bool = False) -> Engine:
    """``immutable`` (read-only only): the file is in WAL mode with nobody writing it (FileState)."""
    if path is None:
        engine = sa.create_engine(
            "sqlite://",
            creator=lambda: _memory_connect(),
            poolclass=StaticPool,
        )
    else:
        engine = sa.create_engine(
            "sqlite://",
            creator=lambda: _sqlite_connect(path, read_only, immutable and read_only),
            pool_pre_ping=False,
            # "sqlite://" alone would get a SingletonThreadPool, which closes other threads'
            # connections when many threads have used it: fatal while a background query runs.
            poolclass=QueuePool,
        )
    _install_sqlite_begin(engine, None if read_only else path)
    if path is not None:
        _count_connections(engine, path.resolve())
    return engine


# How many connections of this process's engines are open on each file: the header of a file in
# use is not read outside SQLite (see _header), so a copy or a second open never drops their locks.
_OPEN_CONNECTIONS: Counter[Path] = Counter()
_OPEN_LOCK = threading.Lock()


def _count_connections(engine: Engine, path: Path) -> None:
    def opened(_dbapi: object, _record: object) -> None:
        with _OPEN_LOCK:
            _OPEN_CONNECTIONS[path] += 1

    def closed(_dbapi: object, _record: object) -> None:
        with _OPEN_LOCK:
            _OPEN_CONNECTIONS[path] -= 1

    event.listen(engine, "connect", opened)
    event.listen(engine, "close", closed)


def in_use(path: Path) -> bool:
    """Whether an engine of this process has a connection open on the file."""
    with _OPEN_LOCK:
        return _OPEN_CONNECTIONS[path.resolve()] > 0


def _memory_connect() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def backup_sqlite(path: Path, dest_dir: Path, reason: str) -> Path:
    """Copy a live database with SQLite's online backup API; returns the backup's path."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    dest = dest_dir / f"{path.stem}-{stamp}-{reason}{path.suffix or '.sqlite'}"
    n = 1
    while dest.exists():
        n += 1
        dest = dest_dir / f"{path.stem}-{stamp}-{reason}-{n}{path.suffix or '.sqlite'}"
    copy_sqlite(path, dest, ours=True)
    return dest


def copy_sqlite(source: Path, dest: Path, *, ours: bool = False) -> None:
    """A consistent copy of a live database (SQLite's online backup API), read-only on the source.

    The copy is one self-contained file: no -wal/-shm appear beside it when it is read. ``ours``
    (or an engine of this process on it): the app has the source open, so its header is not read.
    """
    ours = ours or in_use(source)
    quiet = not ours and not source.with_name(source.name + "-wal").exists()
    immutable = quiet and _wal_at_rest(source, _header(source))
    src = sqlite3.connect(_ro_uri(source, immutable=immutable), uri=True)
    try:
        out = sqlite3.connect(str(dest))
        try:
            src.backup(out)
            out.execute("PRAGMA journal_mode = DELETE")
        finally:
            out.close()
    finally:
        src.close()


@dataclass
class OpenResult:
    engine: Engine
    url: str
    path: Path | None
    read_only: bool
    read_only_reason: str
    upgraded_from: str | None = None
    backup: Path | None = None


def open_database(
    url: str, *, read_only: bool = False, backup_dir: Path | None = None, set_up_empty: bool = False
) -> OpenResult:
    """Open (creating or upgrading when allowed) the database at ``url``.

    A zero-byte file is refused (EmptyFileError) unless ``set_up_empty``: the person was asked.
    """
    path = sqlite_path(url)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite" and path is None:
        engine = make_sqlite_engine(None, read_only=False)
        with engine.begin() as conn:
            migrate.upgrade(conn)
        return OpenResult(engine, url, None, False, "")
    if path is None:
        return _open_server(url, read_only=read_only)

    path = path.expanduser()
    reason = "Opened read-only as requested (--read-only)." if read_only else ""
    if not path.exists():
        if read_only:
            raise DatabaseMissingError(f"There is no database at {path}.")
        if not path.parent.is_dir():
            raise DatabaseMissingError(f"The folder {path.parent} does not exist.")
        state = FileState(empty=True, revision=None, foreign_tables=False)
    else:
        state = inspect_sqlite_file(path)
    if state.zero_bytes and not (set_up_empty and not read_only):
        raise EmptyFileError(
            f"{path.name} is an empty file (0 bytes), not a database. It has not been changed. "
            "Open it in the app to set it up as a new, empty database, or choose another file."
        )
    if state.foreign_tables:
        raise NotADatabaseError(
            f"{path.name} is a SQLite database, but not a Partnership Explorer one. It has not been changed."
        )
    # A file already at the newest schema (the usual case) is recognised without loading Alembic.
    head = migrate.HEAD if state.revision == migrate.HEAD else migrate.head_revision()
    if state.revision is not None and not migrate.is_known(state.revision):
        raise NewerSchemaError(
            f"{path.name} was made by a newer version of Partnership Explorer "
            f"(schema {state.revision}; this version understands up to {head}). "
            "Install the newer version to open it. The file has not been changed."
        )
    if not read_only and not is_writable(path):
        read_only = True
        reason = "You do not have permission to change this file, so it is open read-only."
    needs_upgrade = state.revision != head
    if read_only and needs_upgrade:
        what = "set up" if state.empty else "upgraded"
        raise ReadOnlyError(
            f"{path.name} needs to be {what} for this version of Partnership Explorer, "
            "but it is read-only. Open a copy you can write to."
        )

    engine = make_sqlite_engine(path, read_only=read_only, immutable=state.wal_at_rest)
    result = OpenResult(engine, url, path, read_only, reason)
    if needs_upgrade:
        if not state.empty and backup_dir is not None:
            result.backup = backup_sqlite(path, backup_dir, f"before-upgrade-{head}")
        result.upgraded_from = state.revision
        try:
            with engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn, conn.begin():
                migrate.upgrade(conn)
        except sa.exc.OperationalError as exc:
            engine.dispose()
            raise _translate(exc.orig, path) from exc  # type: ignore[arg-type]
        log.info("database %s upgraded from %s to %s", path, state.revision, head)
    return result


# One number every app process agrees on: migrations of a shared server database take this lock,
# so two analysts starting a new version at once do not both try to upgrade it.
PG_MIGRATION_LOCK = 0x45585052  # "EXPR"


def _server_error(url: str, exc: sa.exc.DBAPIError) -> StoreError:
    where = make_url(url).render_as_string(hide_password=True)
    text = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
    if "password" in text.lower() or "authentication" in text.lower():
        return StoreError(f"The database server at {where} refused the user name or password.", detail=text)
    if "does not exist" in text.lower():
        return DatabaseMissingError(
            f"The database at {where} does not exist. Ask your administrator to create it.", detail=text
        )
    return StoreError(
        f"Could not connect to the database server at {where}. Check the address and that the server is "
        "running; nothing was changed.",
        detail=text,
    )


def _open_server(url: str, *, read_only: bool) -> OpenResult:
    """A shared server database (PostgreSQL): same schema and migrations as a file.

    Read-only sessions are enforced by the server itself (default_transaction_read_only),
    so a viewer cannot write even by mistake. Backups of a server are its administrator's
    job (pg_dump); the app's own backups cover SQLite files.
    """
    parsed = make_url(url)
    connect_args: dict[str, Any] = {"connect_timeout": 10}
    if parsed.get_backend_name() == "postgresql":
        connect_args["application_name"] = "Partnership Explorer"
        if read_only:
            connect_args["options"] = "-c default_transaction_read_only=on"
    try:
        engine = sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    except ImportError as exc:  # the driver is an extra: pip install 'partnership-explorer[postgres]'
        raise StoreError(
            f"This installation cannot reach a {parsed.get_backend_name()} server: its driver is not installed "
            "(for PostgreSQL: pip install 'partnership-explorer[postgres]'). Nothing was changed.",
            detail=str(exc),
        ) from exc
    upgraded_from: str | None = None
    forced_reason = ""
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql" and not read_only:
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_MIGRATION_LOCK})
            current = migrate.current_revision(conn)
            if current is not None and not migrate.is_known(current):
                raise NewerSchemaError(
                    f"The database at {parsed.render_as_string()} was made by a newer "
                    f"version of Partnership Explorer (schema {current})."
                )
            if conn.dialect.name == "postgresql" and not read_only and current is not None:
                role_reason = _role_cannot_write(conn)
                if role_reason:
                    read_only, forced_reason = True, role_reason
            if current != migrate.HEAD and current != migrate.head_revision():
                if read_only:
                    raise ReadOnlyError(
                        "The database needs upgrading to this version's schema, which this connection "
                        "may not do. Ask the database's administrator to run: explorer migrate --db URL"
                    )
                if current is None and _has_foreign_tables(conn):
                    raise NotADatabaseError(
                        f"The database at {parsed.render_as_string()} holds tables that are not Partnership "
                        "Explorer's. It has not been changed."
                    )
                migrate.upgrade(conn)
                upgraded_from = current
                log.info("server database upgraded from %s to %s", current, migrate.head_revision())
    except StoreError:
        engine.dispose()
        raise
    except sa.exc.DBAPIError as exc:
        engine.dispose()
        raise _server_error(url, exc) from exc
    if forced_reason:
        # Every session read-only on the server too: a write is refused there, not half-done.
        engine.dispose()
        connect_args["options"] = "-c default_transaction_read_only=on"
        engine = sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)
        return OpenResult(engine, url, None, True, forced_reason, upgraded_from=upgraded_from)
    reason = "Opened read-only as requested (--read-only)." if read_only else ""
    return OpenResult(engine, url, None, read_only, reason, upgraded_from=upgraded_from)


def _role_cannot_write(conn: sa.Connection) -> str:
    """Why this role may only read (no INSERT/UPDATE on the record tables), or ""."""
    row = conn.execute(
        sa.text(
            "SELECT current_user, "
            "has_table_privilege(current_user, 'deal', 'INSERT') "
            "AND has_table_privilege(current_user, 'deal', 'UPDATE') "
            "AND has_table_privilege(current_user, 'changelog', 'INSERT')"
        )
    ).one()
    if row[1]:
        return ""
    return (
        f"your database role “{row[0]}” may read this team database but not change it "
        "(ask its administrator for write access)."
    )


def _has_foreign_tables(conn: sa.Connection) -> bool:
    return bool(set(sa.inspect(conn).get_table_names()) - {"alembic_version"})


def url_for(target: str | Path) -> str:
    """A SQLAlchemy URL for a path or URL given on the command line or in the environment."""
    text = str(target)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def engine_info(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return {"dialect": conn.dialect.name}
