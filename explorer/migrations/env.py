"""Alembic environment: always driven from code with a live connection (see store.migrate)."""

from __future__ import annotations

from alembic import context

from explorer import models

config = context.config
target_metadata = models.SQLModel.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("Migrations run through explorer.store.migrate, with a connection.")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
