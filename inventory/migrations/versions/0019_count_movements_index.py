"""A partial index of the count movements, per bin

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 16:20:00

The stockroom's Today page lists the bins due a count: it finds each bin's last count among the
ledger's rows. Counts are a few among years of receipts, moves and picks; this index holds only
them, so the page reads the index and not the ledger.
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
    op.create_index('ix_movement_counts', 'movement', ['to_bin_id', 'from_bin_id', 'created_at'], unique=False,
                    sqlite_where=sa.text(COUNTS), postgresql_where=sa.text(COUNTS))


def downgrade():
    op.drop_index('ix_movement_counts', table_name='movement')
