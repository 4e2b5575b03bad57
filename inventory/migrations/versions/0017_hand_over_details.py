"""What a hand-over records: who collected it, or the carrier and tracking number

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 15:40:00

A hand-over now says who collected the request (`handed_over_to`, a name) or, for a shipment,
the carrier and its tracking number, and when it happened (`handed_over_at`, naive UTC: a
manager may undo a hand-over only on its day). Requests handed over before this upgrade keep
empty details and no time: the page shows them as before, and none can be undone.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('request') as batch:
        batch.add_column(sa.Column('handed_over_to', sa.String(length=120), server_default='', nullable=False))
        batch.add_column(sa.Column('carrier', sa.String(length=40), server_default='', nullable=False))
        batch.add_column(sa.Column('tracking', sa.String(length=60), server_default='', nullable=False))
        batch.add_column(sa.Column('handed_over_at', sa.DateTime(), nullable=True))


def downgrade():
    # Not batch mode on SQLite: it would copy "request" into a new table, and the tables that refer
    # to requests stop that (foreign keys are on). SQLite 3.35+ drops a plain column in place.
    for column in ('handed_over_at', 'tracking', 'carrier', 'handed_over_to'):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f'ALTER TABLE request DROP COLUMN {column}')
        else:
            op.drop_column('request', column)
