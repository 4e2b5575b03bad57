"""Which items each forecast counter step changed

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 12:40:00

Every transaction that bumps the forecast counter (0007) now also says which items it changed:
one row per item at the new counter value, or one row marked `everything` when it cannot say
(an event or product changed, raw SQL, a bulk import), or one row with no item when it changed
none (a new request header, a new event). A process that computed the forecast at counter n then
re-projects only the items changed after n (inventory/forecast/freshness.py).
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'forecast_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=True),
        sa.Column('everything', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_forecast_change')),
    )
    op.create_index('ix_forecast_change_n', 'forecast_change', ['n'], unique=False)


def downgrade():
    op.drop_index('ix_forecast_change_n', table_name='forecast_change')
    op.drop_table('forecast_change')
