"""Index request steps by action and time, for reports over a period

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 13:10:00

The reports count what was handed over in a period from the requests' 'handed_over' steps; with
only request_step (request_id) indexed, each of the overview's five such queries read every step
of every request in the history (80,000 on the large demo stockroom).
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_request_step_action_at', 'request_step', ['action', 'at'], unique=False)


def downgrade():
    op.drop_index('ix_request_step_action_at', table_name='request_step')
