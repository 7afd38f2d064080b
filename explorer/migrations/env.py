"""Alembic environment: always driven from code with a live connection (see store.migrate)."""

from __future__ import annotations

from alembic import context

from explorer import models

config = context.config
target_metadata = models.SQLModel.metadata


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    # The search index is an FTS5 virtual table (and its shadow tables): not ours to diff.
    return not (type_ == "table" and name is not None and name.startswith("search_index"))


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("Migrations run through explorer.store.migrate, with a connection.")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=False,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
