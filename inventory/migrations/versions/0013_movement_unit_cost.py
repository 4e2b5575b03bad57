"""The unit cost recorded on each movement, and on a request line when it is handed over

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 10:00:00

Each movement now records what one unit cost when it moved (a PO receipt: its line's cost;
anything else: the item's unit cost then), and a request line the cost its issue recorded
(`issued_unit_cost`), which the usage reports and event pages read: a later price change no
longer rewrites what past shows cost.

Neither kept a cost before, so the rows already there get the item's unit cost at the time of
this upgrade: every movement, and every request line that was handed over (issued > 0), each in
one UPDATE. `movement.unit_cost` is then NOT NULL; `issued_unit_cost` stays empty on lines not
handed over yet.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

_item = sa.table('item', sa.column('id', sa.Integer()), sa.column('unit_cost', sa.Numeric(10, 2)))
_movement = sa.table('movement', sa.column('item_id', sa.Integer()), sa.column('unit_cost', sa.Numeric(10, 2)))
_line = sa.table('request_line', sa.column('item_id', sa.Integer()), sa.column('issued', sa.Integer()),
                 sa.column('issued_unit_cost', sa.Numeric(10, 2)))


def _cost_now(table):
    """The item's unit cost, for each row of `table` (a correlated subquery: one set-based
    UPDATE, the same SQL on SQLite and PostgreSQL)."""
    return sa.func.coalesce(sa.select(_item.c.unit_cost).where(_item.c.id == table.c.item_id).scalar_subquery(), 0)


def backfill_unit_costs(connection):
    """Give every movement without a recorded cost, and every handed-over request line without
    one, its item's unit cost now. Returns (movements, lines) updated."""
    movements = connection.execute(
        sa.update(_movement).where(_movement.c.unit_cost.is_(None)).values(unit_cost=_cost_now(_movement)))
    lines = connection.execute(
        sa.update(_line).where(_line.c.issued > 0, _line.c.issued_unit_cost.is_(None))
        .values(issued_unit_cost=_cost_now(_line)))
    return movements.rowcount, lines.rowcount


def upgrade():
    with op.batch_alter_table('movement') as batch:
        batch.add_column(sa.Column('unit_cost', sa.Numeric(precision=10, scale=2), nullable=True))
    with op.batch_alter_table('request_line') as batch:
        batch.add_column(sa.Column('issued_unit_cost', sa.Numeric(precision=10, scale=2), nullable=True))
    backfill_unit_costs(op.get_bind())
    with op.batch_alter_table('movement') as batch:
        batch.alter_column('unit_cost', existing_type=sa.Numeric(precision=10, scale=2), nullable=False)
        batch.create_check_constraint(op.f('ck_movement_unit_cost_not_negative'), 'unit_cost >= 0')


def downgrade():
    with op.batch_alter_table('request_line') as batch:
        batch.drop_column('issued_unit_cost')
    with op.batch_alter_table('movement') as batch:
        batch.drop_constraint(op.f('ck_movement_unit_cost_not_negative'), type_='check')
        batch.drop_column('unit_cost')
