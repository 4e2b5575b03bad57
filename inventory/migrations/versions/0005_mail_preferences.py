"""Mail preferences per user and kind, and the return reminders already sent

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 06:55:09.388278

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mail_preference',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_mail_preference_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_preference')),
    sa.UniqueConstraint('user_id', 'kind', name='uq_mail_preference_user_id_kind')
    )
    op.create_table('return_reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['request.id'], name=op.f('fk_return_reminder_request_id_request')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return_reminder')),
    sa.UniqueConstraint('request_id', 'kind', name='uq_return_reminder_request_id_kind')
    )


def downgrade():
    op.drop_table('return_reminder')
    op.drop_table('mail_preference')
