"""Indexes for a large stockroom: request lines that hold stock per item, and backordered lines

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 07:45:00

Years of handed-over requests leave tens of thousands of request lines that hold nothing
(reserved 0). Availability (catalog, item pages, every reservation) asks per item for the
lines that hold something; (item_id, reserved) lets the database seek those alone. The request
queue lists backordered lines; an index on backordered finds the few among all lines.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_request_line_item_id_reserved', 'request_line', ['item_id', 'reserved'], unique=False)
    op.create_index('ix_request_line_backordered', 'request_line', ['backordered'], unique=False)


def downgrade():
    op.drop_index('ix_request_line_backordered', table_name='request_line')
    op.drop_index('ix_request_line_item_id_reserved', table_name='request_line')
