"""change history, file facts and the full-text search index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

The search index is filled by the store the next time it opens the file writable
(it sees ``search_index_dirty`` in ``meta``), so the indexing rules live in one place.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('changelog',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('record_type', sa.String(length=40), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('record_uuid', sa.String(length=36), nullable=False),
    sa.Column('field', sa.String(length=60), nullable=True),
    sa.Column('old_value', sa.Text(), nullable=True),
    sa.Column('new_value', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('changelog', schema=None) as batch_op:
        batch_op.create_index('ix_changelog_record', ['record_type', 'record_id'], unique=False)

    op.create_table('meta',
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    if op.get_bind().dialect.name == "sqlite":
        # Trigram tokens let "mitomo" find "Sumitomo Realty": users type parts of names.
        op.execute(
            "CREATE VIRTUAL TABLE search_index USING fts5("
            "record_type UNINDEXED, record_id UNINDEXED, title, body, tokenize='trigram')"
        )
    else:
        op.create_table('search_index',
        sa.Column('record_type', sa.String(length=40), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('body', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('record_type', 'record_id')
        )
    op.execute("INSERT INTO meta (key, value) VALUES ('search_index_dirty', '1')")


def downgrade() -> None:
    op.execute("DROP TABLE search_index")
    op.drop_table('meta')
    with op.batch_alter_table('changelog', schema=None) as batch_op:
        batch_op.drop_index('ix_changelog_record')
    op.drop_table('changelog')
