"""Chat channels, and chat messages in the outbox

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-08 01:00:00

A chat channel (chat/models.py) is a Slack, Teams or generic webhook, its URL encrypted. A chat
message is an outbox row with channel_id set and its JSON body in payload.

On SQLite the outbox columns are added with ALTER TABLE ... ADD COLUMN (batch mode would copy the
outbox table).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    if 'chat_channel' not in sa.inspect(bind).get_table_names():  # SQLite's downgrade keeps it, empty
        _create_chat_channel()
    columns = {column['name'] for column in sa.inspect(bind).get_columns('outbox_message')}
    if bind.dialect.name == 'sqlite':
        if 'channel_id' not in columns:  # a SQLite downgrade leaves it, emptied
            op.execute("ALTER TABLE outbox_message ADD COLUMN channel_id INTEGER "
                       "CONSTRAINT fk_outbox_message_channel_id_chat_channel REFERENCES chat_channel (id)")
        op.execute("ALTER TABLE outbox_message ADD COLUMN payload TEXT DEFAULT '' NOT NULL")
    else:
        op.add_column('outbox_message', sa.Column('channel_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_outbox_message_channel_id_chat_channel'), 'outbox_message', 'chat_channel',
                              ['channel_id'], ['id'])
        op.add_column('outbox_message', sa.Column('payload', sa.Text(), server_default='', nullable=False))


def _create_chat_channel():
    op.create_table(
        'chat_channel',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('url_encrypted', sa.Text(), nullable=False),
        sa.Column('url_hint', sa.String(length=300), nullable=False),
        sa.Column('secret_encrypted', sa.Text(), nullable=True),
        sa.Column('topics', sa.String(length=200), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=True),
        sa.Column('team_id', sa.Integer(), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_chat_channel_event_id_event')),
        sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_chat_channel_team_id_team')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_channel')),
        sa.UniqueConstraint('name', name=op.f('uq_chat_channel_name')),
    )


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite cannot drop a column that is in a foreign key: channel_id stays, emptied, and so
        # does chat_channel, empty, which its foreign key names (the upgrade takes both as they are).
        op.execute('ALTER TABLE outbox_message DROP COLUMN payload')
        op.execute('UPDATE outbox_message SET channel_id = NULL')
        op.execute('DELETE FROM chat_channel')
    else:
        op.drop_column('outbox_message', 'payload')
        op.drop_constraint(op.f('fk_outbox_message_channel_id_chat_channel'), 'outbox_message', type_='foreignkey')
        op.drop_column('outbox_message', 'channel_id')
        op.drop_table('chat_channel')
