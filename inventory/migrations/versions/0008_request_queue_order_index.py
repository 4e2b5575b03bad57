"""The request queue's order in its index: (status, needed_by, created_at, id)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 11:10:00

The queue lists requests of a status by needed-by date, then creation time and id. The index
on (status, needed_by) found them but left the rest of the order to a sort of every request of
that status (years of handed-over ones: some 17,000 on a large stockroom) before the page's
LIMIT; with the whole order in the index the database reads the page's rows in order and stops.
It replaces the shorter index, whose uses (status alone, status and needed-by) it also serves.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_request_status_needed_by_created_at', 'request',
                    ['status', 'needed_by', 'created_at', 'id'], unique=False)
    op.drop_index('ix_request_status_needed_by', table_name='request')


def downgrade():
    op.create_index('ix_request_status_needed_by', 'request', ['status', 'needed_by'], unique=False)
    op.drop_index('ix_request_status_needed_by_created_at', table_name='request')
