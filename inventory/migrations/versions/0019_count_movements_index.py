"""Partial indexes of the count movements, per bin

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 16:20:00

The stockroom's Today page lists the bins due a count: it finds each bin's last count among the
ledger's rows. Counts are a few among years of receipts, moves and picks; these indexes (one for
counts up into a bin, one for counts down out of it) hold only them, so the page seeks each bin's
last count in an index instead of reading the ledger.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

COUNTS = "kind = 'count'"


def upgrade():
    for side in ('to_bin', 'from_bin'):
        op.create_index(f'ix_movement_counts_{side}', 'movement', [f'{side}_id', 'created_at'], unique=False,
                        sqlite_where=sa.text(COUNTS), postgresql_where=sa.text(COUNTS))


def downgrade():
    for side in ('to_bin', 'from_bin'):
        op.drop_index(f'ix_movement_counts_{side}', table_name='movement')
