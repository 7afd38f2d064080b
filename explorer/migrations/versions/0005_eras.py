"""eras: named stretches of time drawn behind the timeline

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

Peer timeline tools (TimelineJS, vis-timeline's background items, the Timeline app) have eras;
imported, they become these records and are drawn as bands behind every lane.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'era',
        sa.Column('start_date', sa.Date(), nullable=True),
        sa.Column('date_precision', sa.String(length=12), nullable=False),
        sa.Column('end_date', sa.Date(), nullable=True),
        sa.Column('start_day', sa.Integer(), nullable=True),
        sa.Column('end_day', sa.Integer(), nullable=True),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uuid', sa.String(length=36), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('notes', sa.String(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('uuid'),
    )
    with op.batch_alter_table('era', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_era_start_day'), ['start_day'], unique=False)
        batch_op.create_index(batch_op.f('ix_era_title'), ['title'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('era', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_era_title'))
        batch_op.drop_index(batch_op.f('ix_era_start_day'))
    op.drop_table('era')
