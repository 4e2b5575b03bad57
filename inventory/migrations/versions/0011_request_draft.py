"""The request being put together, kept in the database

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 07:20:00

A rep's request used to live in the session cookie until it was sent, and only its quantities:
the details typed (needed-by date, note, address) were lost when the rep left the page. A draft
row per user keeps both, whatever device the rep comes back on.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'request_draft',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('lines', sa.JSON(), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.Column('generation', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_request_draft_user_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_request_draft')),
    )


def downgrade():
    op.drop_table('request_draft')
