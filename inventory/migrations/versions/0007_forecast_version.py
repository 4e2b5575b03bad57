"""The forecast's freshness counter: one row, bumped by every transaction that changes its inputs

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 10:00:00

/reorders computed the whole forecast on every view. Now a computed forecast is kept until this
counter moves (inventory/forecast/freshness.py).
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


def downgrade():
    op.drop_table('forecast_version')
