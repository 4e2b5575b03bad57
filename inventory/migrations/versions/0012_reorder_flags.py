"""Stored reorder flags, and the piece that replaces a print piece

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 09:30:00

The forecast's flags are now stored in one table (`reorder_flag`), kept current by the rules
that change supply or demand in their own transaction; `forecast_state` says for which day and
settings they were projected (a read on a new day projects everything again). This replaces the
per-process flags kept with a counter and a change log (0007, 0009), whose tables go.

`item.replaced_by_id` names an item's successor (a new print run, a new design).
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'reorder_flag',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('rank', sa.Integer(), nullable=False),
        sa.Column('need_date', sa.Date(), nullable=False),
        sa.Column('order_by', sa.Date(), nullable=False),
        sa.Column('projected', sa.Integer(), nullable=False),
        sa.Column('shortfall', sa.Integer(), nullable=False),
        sa.Column('suggested_quantity', sa.Integer(), nullable=False),
        sa.Column('orders', sa.JSON(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('computed_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_reorder_flag_item_id_item'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_reorder_flag_event_id_event'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reorder_flag')),
    )
    op.create_index('ix_reorder_flag_item_id', 'reorder_flag', ['item_id'], unique=False)
    op.create_index('ix_reorder_flag_event_id', 'reorder_flag', ['event_id'], unique=False)
    op.create_index('ix_reorder_flag_rank_order_by', 'reorder_flag', ['rank', 'order_by'], unique=False)
    state = op.create_table(
        'forecast_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('as_of', sa.Date(), nullable=True),
        sa.Column('settings', sa.String(length=80), nullable=False),
        sa.Column('computed_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_forecast_state')),
    )
    op.bulk_insert(state, [{'id': 1, 'as_of': None, 'settings': '', 'computed_at': None}])
    with op.batch_alter_table('item') as batch:
        batch.add_column(sa.Column('replaced_by_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(batch.f('fk_item_replaced_by_id_item'), 'item', ['replaced_by_id'], ['id'],
                                 ondelete='SET NULL')
    op.drop_index('ix_forecast_change_n', table_name='forecast_change')
    op.drop_table('forecast_change')
    op.drop_table('forecast_version')
    # An item can be flagged to restock and to retire at once: each is alerted on its own.
    with op.batch_alter_table('alert') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=16), server_default='stock', nullable=False))
        batch.drop_constraint('uq_alert_item_id_event_id', type_='unique')
        batch.create_unique_constraint('uq_alert_item_id_event_id_kind', ['item_id', 'event_id', 'kind'])


def downgrade():
    with op.batch_alter_table('alert') as batch:
        batch.drop_constraint('uq_alert_item_id_event_id_kind', type_='unique')
        batch.create_unique_constraint('uq_alert_item_id_event_id', ['item_id', 'event_id'])
        batch.drop_column('kind')
    version = op.create_table(
        'forecast_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_forecast_version')),
    )
    op.bulk_insert(version, [{'id': 1, 'token': 'downgraded', 'n': 0}])
    op.create_table(
        'forecast_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=True),
        sa.Column('everything', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_forecast_change')),
    )
    op.create_index('ix_forecast_change_n', 'forecast_change', ['n'], unique=False)
    with op.batch_alter_table('item') as batch:
        batch.drop_constraint(batch.f('fk_item_replaced_by_id_item'), type_='foreignkey')
        batch.drop_column('replaced_by_id')
    op.drop_table('forecast_state')
    op.drop_index('ix_reorder_flag_rank_order_by', table_name='reorder_flag')
    op.drop_index('ix_reorder_flag_event_id', table_name='reorder_flag')
    op.drop_index('ix_reorder_flag_item_id', table_name='reorder_flag')
    op.drop_table('reorder_flag')
