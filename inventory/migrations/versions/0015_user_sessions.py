"""Signed-in sessions kept on the server, and a feed secret per user

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 12:30:00

A session used to live only in its signed cookie: logging out or changing the password left a
saved copy working for 14 days. Each login now has a `user_session` row that every request
looks up (by the SHA-256 of a random key in the cookie), so ending the row ends the session.

`user.feed_secret` goes into the calendar feed link, so that *New link* and deactivation turn
an old link off. Existing users keep NULL: their current link goes on working until then.
Sessions from before this migration have no row and are signed out once.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'user_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.Column('user_agent', sa.String(length=200), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_user_session_user_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_user_session_key_hash')),
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feed_secret', sa.String(length=43), nullable=True))


def downgrade():
    # Not batch mode on SQLite: it would copy "user" into a new table, and every table that refers
    # to users stops that (foreign keys are on). SQLite 3.35+ drops a plain column in place.
    if op.get_bind().dialect.name == "sqlite":
        op.execute('ALTER TABLE "user" DROP COLUMN feed_secret')
    else:
        op.drop_column('user', 'feed_secret')
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_session_user_id'))
    op.drop_table('user_session')
