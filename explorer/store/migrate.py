"""Versioned schema: Alembic migrations driven from code (works in a frozen bundle too).

Alembic is imported only when a migration runs or a revision must be looked up: loading it and
its ScriptDirectory costs about 100 ms, while opening an up-to-date file only needs its stored
revision compared with :data:`HEAD`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import Connection

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

# The newest migration's revision id, so start-up can tell a current file without loading
# Alembic. tests/test_startup.py checks it against Alembic's own head: bump it with each migration.
HEAD = "0005"


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def script_directory() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    head = script_directory().get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    return {rev.revision for rev in script_directory().walk_revisions()}


def current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def is_known(revision: str) -> bool:
    if revision == HEAD:
        return True
    from alembic.util.exc import CommandError

    try:
        return script_directory().get_revision(revision) is not None
    except CommandError:
        return False


def upgrade(connection: Connection, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), revision)
