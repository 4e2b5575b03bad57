"""A partial index of the request lines that hold or wait for stock, per item

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 10:50:00

Every rule that changes an item's supply or demand now projects the item again in its own
transaction (the stored reorder flags, 0012), reading the item's lines that hold or wait for
stock. A popular item has thousands of finished lines and a few live ones: this index holds only
the live ones, so reading them costs the same however long the item's history.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

LIVE = "reserved > 0 OR backordered > 0"


def upgrade():
    op.create_index('ix_request_line_live_item_id', 'request_line', ['item_id'], unique=False,
                    sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))


def downgrade():
    op.drop_index('ix_request_line_live_item_id', table_name='request_line')
