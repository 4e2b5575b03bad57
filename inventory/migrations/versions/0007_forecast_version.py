"""The forecast's freshness counter, and an index for the forecast's handed-over returnables

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 10:00:00

/reorders computed the whole forecast on every view. Now a computed forecast is kept until this
counter moves (inventory/forecast/freshness.py): one row, bumped by every transaction that
changes what the forecast reads.

The forecast reads open requests and handed-over returnables (status 'handed_over' with a return
date): request (status, return_by) finds the few of those among years of handed-over requests,
where (status, needed_by) made the database read all of them.
"""
import secrets

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        'forecast_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_forecast_version')),
    )
    op.bulk_insert(table, [{'id': 1, 'token': secrets.token_hex(8), 'n': 0}])
    op.create_index('ix_request_status_return_by', 'request', ['status', 'return_by'], unique=False)


def downgrade():
    op.drop_index('ix_request_status_return_by', table_name='request')
    op.drop_table('forecast_version')
