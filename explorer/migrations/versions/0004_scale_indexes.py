"""indexes for large databases: end dates, names, and the composites the tree and filters use

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

0001 already indexes every foreign key, every start day and most names. At a million
records the sector tree's aggregates, an organisation's deal list and date-range
filters still scanned tables; these indexes let SQLite answer them from an index alone.
"""

from __future__ import annotations

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# (index name, table, columns)
INDEXES: tuple[tuple[str, str, list[str]], ...] = (
    # sector totals: GROUP BY sector_id with SUM(amount_usd), read from the index only
    ('ix_deal_sector_amount', 'deal', ['sector_id', 'amount_usd']),
    # a sector's deals in date order (unattributed deals, sector filters with a date range)
    ('ix_deal_sector_start', 'deal', ['sector_id', 'start_day']),
    # an organisation's deals: the primary key starts with deal_id, this goes the other way
    ('ix_dealorganisation_org_deal', 'dealorganisation', ['organisation_id', 'deal_id']),
    # organisations listed under their own sector, by name
    ('ix_organisation_sector_name', 'organisation', ['sector_id', 'name']),
    # date-range filters test the end as well as the start
    ('ix_event_end_day', 'event', ['end_day']),
    ('ix_pledge_end_day', 'pledge', ['end_day']),
    ('ix_deal_end_day', 'deal', ['end_day']),
    ('ix_initiative_end_day', 'initiative', ['end_day']),
    ('ix_target_end_day', 'target', ['end_day']),
    # names shown in pickers and sorted lists that 0001 left unindexed
    ('ix_country_name', 'country', ['name']),
    ('ix_source_title', 'source', ['title']),
    ('ix_story_title', 'story', ['title']),
    # a story's steps in order
    ('ix_storystep_story_position', 'storystep', ['story_id', 'position']),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
