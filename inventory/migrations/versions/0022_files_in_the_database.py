"""Collateral files, and every file in the database

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 23:30:00

Bytes live in the database (stored_file, its chunks in stored_file_chunk), so that every app
host on one PostgreSQL serves the same files and no file lives on one host's disk. An item's
files are versions in item_file (its print master and the version to send to clients); a share
link is a file_share row, each open a file_share_open row.

Product photos move in: each product's photo file in the instance folder (photos/<name>) is read
into stored_file and named by product.photo_id; product.photo is dropped. A photo whose file is
not on this host (another host's disk, or lost) is reported and the product left without one,
rather than kept pointing at nothing. The downgrade writes the photos back to the instance folder.

On SQLite the product columns are added and dropped with ALTER TABLE (batch mode would copy the
product table, which item references). SQLite cannot drop a column that is in a foreign key, so
its downgrade leaves product.photo_id (emptied) and stored_file (empty), and the upgrade takes
them as they are.
"""
import hashlib
import os
import secrets
import sys

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

CHUNK_BYTES = 1024 * 1024


def _instance_photos():
    try:
        from flask import current_app
        return os.path.join(current_app.instance_path, "photos")
    except RuntimeError:  # alembic run without the app: no instance folder to read
        return None


def upgrade():
    if 'stored_file' not in sa.inspect(op.get_bind()).get_table_names():  # SQLite's downgrade keeps it
        _create_stored_file()
    op.create_table(
        'stored_file_chunk',
        sa.Column('file_id', sa.Integer(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['file_id'], ['stored_file.id'], name=op.f('fk_stored_file_chunk_file_id_stored_file'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('file_id', 'n', name=op.f('pk_stored_file_chunk')),
    )
    op.create_table(
        'item_file',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=120), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('type_name', sa.String(length=12), nullable=False),
        sa.Column('file_id', sa.Integer(), nullable=False),
        sa.Column('preview_id', sa.Integer(), nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.Column('uploaded_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('master', 'shareable')", name=op.f('ck_item_file_kind_known')),
        sa.CheckConstraint('version >= 1', name=op.f('ck_item_file_version_positive')),
        sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_item_file_item_id_item')),
        sa.ForeignKeyConstraint(['file_id'], ['stored_file.id'], name=op.f('fk_item_file_file_id_stored_file')),
        sa.ForeignKeyConstraint(['preview_id'], ['stored_file.id'], name=op.f('fk_item_file_preview_id_stored_file')),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_item_file_uploaded_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_item_file')),
        sa.UniqueConstraint('item_id', 'kind', 'version', name='uq_item_file_item_id_kind_version'),
    )
    op.create_index(op.f('ix_item_file_item_id'), 'item_file', ['item_id'], unique=False)
    op.create_table(
        'file_share',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_file_id', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_by_id', sa.Integer(), nullable=True),
        sa.Column('opens', sa.Integer(), nullable=False),
        sa.Column('first_opened_at', sa.DateTime(), nullable=True),
        sa.Column('last_opened_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['item_file_id'], ['item_file.id'], name=op.f('fk_file_share_item_file_id_item_file')),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_file_share_created_by_id_user')),
        sa.ForeignKeyConstraint(['revoked_by_id'], ['user.id'], name=op.f('fk_file_share_revoked_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_file_share')),
    )
    op.create_index(op.f('ix_file_share_item_file_id'), 'file_share', ['item_file_id'], unique=False)
    op.create_table(
        'file_share_open',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('share_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['share_id'], ['file_share.id'], name=op.f('fk_file_share_open_share_id_file_share')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_file_share_open')),
    )
    op.create_index('ix_file_share_open_share_id_at', 'file_share_open', ['share_id', 'at'], unique=False)

    columns = {column['name'] for column in sa.inspect(op.get_bind()).get_columns('product')}
    if op.get_bind().dialect.name == 'sqlite' and 'photo_id' in columns:
        pass  # left, emptied, by a downgrade (SQLite cannot drop a column in a foreign key)
    elif op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE product ADD COLUMN photo_id INTEGER '
                   'CONSTRAINT fk_product_photo_id_stored_file REFERENCES stored_file (id)')
    else:
        op.add_column('product', sa.Column('photo_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_product_photo_id_stored_file'), 'product', 'stored_file',
                              ['photo_id'], ['id'])
    _photos_into_the_database()
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE product DROP COLUMN photo')
    else:
        op.drop_column('product', 'photo')


def _create_stored_file():
    op.create_table(
        'stored_file',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('chunks', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_file')),
    )


def _photos_into_the_database():
    bind = op.get_bind()
    folder = _instance_photos()
    rows = bind.execute(sa.text("SELECT id, photo FROM product WHERE photo IS NOT NULL AND photo <> ''")).all()
    stored = sa.table('stored_file', sa.column('id'), sa.column('sha256'), sa.column('size'),
                      sa.column('content_type'), sa.column('chunks'), sa.column('created_at'))
    chunk = sa.table('stored_file_chunk', sa.column('file_id'), sa.column('n'), sa.column('data'))
    missing = []
    for product_id, name in rows:
        path = os.path.join(folder, os.path.basename(name)) if folder else None
        if path is None or not os.path.isfile(path):
            missing.append(f"#{product_id} ({name})")
            continue
        with open(path, "rb") as photo:
            data = photo.read()
        file_id = bind.execute(sa.insert(stored).values(
            sha256=hashlib.sha256(data).hexdigest(), size=len(data), content_type="image/jpeg",
            chunks=(len(data) + CHUNK_BYTES - 1) // CHUNK_BYTES, created_at=sa.func.now())
            .returning(stored.c.id)).scalar_one()
        for n, start in enumerate(range(0, len(data), CHUNK_BYTES)):
            bind.execute(sa.insert(chunk).values(file_id=file_id, n=n, data=data[start:start + CHUNK_BYTES]))
        bind.execute(sa.text("UPDATE product SET photo_id = :file WHERE id = :id"), {"file": file_id, "id": product_id})
    if missing:
        print(f"0022: {len(missing)} product photo(s) not found in {folder}, left without a photo: "
              + ", ".join(missing[:20]) + (" ..." if len(missing) > 20 else ""), file=sys.stderr)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        op.execute('ALTER TABLE product ADD COLUMN photo VARCHAR(80)')
    else:
        op.add_column('product', sa.Column('photo', sa.String(length=80), nullable=True))
    folder = _instance_photos()
    if folder:
        os.makedirs(folder, exist_ok=True)
        for product_id, file_id in bind.execute(
                sa.text("SELECT id, photo_id FROM product WHERE photo_id IS NOT NULL")).all():
            data = b"".join(bytes(part) for (part,) in bind.execute(
                sa.text("SELECT data FROM stored_file_chunk WHERE file_id = :id ORDER BY n"), {"id": file_id}))
            name = secrets.token_hex(12) + ".jpg"
            with open(os.path.join(folder, name), "wb") as photo:
                photo.write(data)
            bind.execute(sa.text("UPDATE product SET photo = :name WHERE id = :id"), {"name": name, "id": product_id})
    if bind.dialect.name == 'sqlite':  # a column in a foreign key cannot be dropped there: emptied
        op.execute('UPDATE product SET photo_id = NULL')
    else:
        op.drop_constraint(op.f('fk_product_photo_id_stored_file'), 'product', type_='foreignkey')
        op.drop_column('product', 'photo_id')
    op.drop_index('ix_file_share_open_share_id_at', table_name='file_share_open')
    op.drop_table('file_share_open')
    op.drop_index(op.f('ix_file_share_item_file_id'), table_name='file_share')
    op.drop_table('file_share')
    op.drop_index(op.f('ix_item_file_item_id'), table_name='item_file')
    op.drop_table('item_file')
    op.drop_table('stored_file_chunk')
    if bind.dialect.name == 'sqlite':
        # product.photo_id stays there (emptied), and its foreign key names stored_file: the table
        # stays too, empty, so that later downgrades that copy tables still find it.
        op.execute('DELETE FROM stored_file')
    else:
        op.drop_table('stored_file')
