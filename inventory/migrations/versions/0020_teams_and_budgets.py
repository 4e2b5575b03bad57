"""Teams (cost centres) and budgets

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 15:00:00

A team has a budget per period and spend limits; a user belongs to one team, and a request
carries its requester's team from submission. An item gains its expected loss rate (percent of a
returnable's units lent), an event its budget.

On SQLite the new columns are added with ALTER TABLE ... ADD COLUMN, their constraints inline
(batch mode would copy the user, request, item and event tables, each referenced by others).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

MONEY = sa.Numeric(precision=12, scale=2)


def upgrade():
    op.create_table(
        'team',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('budget', MONEY, nullable=True),
        sa.Column('approver_id', sa.Integer(), nullable=True),
        sa.Column('auto_approve_up_to', MONEY, server_default='0', nullable=False),
        sa.Column('second_approval_above', MONEY, nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint('budget IS NULL OR budget >= 0', name=op.f('ck_team_budget_not_negative')),
        sa.CheckConstraint('auto_approve_up_to >= 0', name=op.f('ck_team_auto_approve_not_negative')),
        sa.CheckConstraint('second_approval_above IS NULL OR second_approval_above >= 0',
                           name=op.f('ck_team_second_approval_not_negative')),
        sa.ForeignKeyConstraint(['approver_id'], ['user.id'], name=op.f('fk_team_approver_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_team')),
        sa.UniqueConstraint('name', name=op.f('uq_team_name')),
    )
    if op.get_bind().dialect.name == 'sqlite':
        for statement in (
            'ALTER TABLE "user" ADD COLUMN team_id INTEGER '
            'CONSTRAINT fk_user_team_id_team REFERENCES team (id)',
            'ALTER TABLE request ADD COLUMN team_id INTEGER '
            'CONSTRAINT fk_request_team_id_team REFERENCES team (id)',
            "ALTER TABLE item ADD COLUMN loss_rate INTEGER DEFAULT '0' NOT NULL "
            'CONSTRAINT ck_item_loss_rate_percent CHECK (loss_rate >= 0 AND loss_rate <= 100)',
            'ALTER TABLE event ADD COLUMN budget NUMERIC(12, 2) '
            'CONSTRAINT ck_event_budget_not_negative CHECK (budget IS NULL OR budget >= 0)',
        ):
            op.execute(statement)
    else:
        op.add_column('user', sa.Column('team_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_user_team_id_team'), 'user', 'team', ['team_id'], ['id'])
        op.add_column('request', sa.Column('team_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_request_team_id_team'), 'request', 'team', ['team_id'], ['id'])
        op.add_column('item', sa.Column('loss_rate', sa.Integer(), server_default='0', nullable=False))
        op.create_check_constraint(op.f('ck_item_loss_rate_percent'), 'item', 'loss_rate >= 0 AND loss_rate <= 100')
        op.add_column('event', sa.Column('budget', MONEY, nullable=True))
        op.create_check_constraint(op.f('ck_event_budget_not_negative'), 'event', 'budget IS NULL OR budget >= 0')
    op.create_index(op.f('ix_user_team_id'), 'user', ['team_id'], unique=False)
    op.create_index('ix_request_team_id_needed_by', 'request', ['team_id', 'needed_by'], unique=False)


def downgrade():
    op.drop_index('ix_request_team_id_needed_by', table_name='request')
    op.drop_index(op.f('ix_user_team_id'), table_name='user')
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite (3.35 and later) drops a column in place when no index or constraint names it
        # but its own inline ones; the foreign keys to team go with their columns.
        for table, column in (('event', 'budget'), ('item', 'loss_rate'), ('request', 'team_id'), ('user', 'team_id')):
            op.execute(f'ALTER TABLE "{table}" DROP COLUMN {column}')
    else:
        op.drop_constraint(op.f('ck_event_budget_not_negative'), 'event', type_='check')
        op.drop_column('event', 'budget')
        op.drop_constraint(op.f('ck_item_loss_rate_percent'), 'item', type_='check')
        op.drop_column('item', 'loss_rate')
        op.drop_constraint(op.f('fk_request_team_id_team'), 'request', type_='foreignkey')
        op.drop_column('request', 'team_id')
        op.drop_constraint(op.f('fk_user_team_id_team'), 'user', type_='foreignkey')
        op.drop_column('user', 'team_id')
    op.drop_table('team')
