"""Approvals: who decided what on a request, and the approval rights of managers

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 17:00:00

A request's approvals (budgets/approvals.py) are rows of request_approval: the level each
decision fills, who, approved or rejected, and why. A user gains two rights an admin sets: on
the list of second approvers, and the right to exceed a team's budget.

On SQLite the user columns are added with ALTER TABLE ... ADD COLUMN (batch mode would copy the
user table, which others reference).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'request_approval',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('level', sa.String(length=12), nullable=False),
        sa.Column('decision', sa.String(length=12), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['request_id'], ['request.id'], name=op.f('fk_request_approval_request_id_request')),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_request_approval_user_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_request_approval')),
    )
    op.create_index(op.f('ix_request_approval_request_id'), 'request_approval', ['request_id'], unique=False)
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("ALTER TABLE \"user\" ADD COLUMN second_approver BOOLEAN DEFAULT '0' NOT NULL")
        op.execute("ALTER TABLE \"user\" ADD COLUMN may_exceed_budget BOOLEAN DEFAULT '0' NOT NULL")
    else:
        op.add_column('user', sa.Column('second_approver', sa.Boolean(), server_default='0', nullable=False))
        op.add_column('user', sa.Column('may_exceed_budget', sa.Boolean(), server_default='0', nullable=False))


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE "user" DROP COLUMN may_exceed_budget')
        op.execute('ALTER TABLE "user" DROP COLUMN second_approver')
    else:
        op.drop_column('user', 'may_exceed_budget')
        op.drop_column('user', 'second_approver')
    op.drop_index(op.f('ix_request_approval_request_id'), table_name='request_approval')
    op.drop_table('request_approval')
