"""Search words and keywords on products

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 15:40:00

`product.keywords` holds the other words people use for a product ("one-pager, leaflet" on a
flyer); `product.search_words` every word search looks at (name, SKUs, suppliers, category,
description, keywords), normalised and stemmed by inventory/catalog/search.py, which keeps it
current from now on. The products already there get theirs here, a few statements per 500.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

_product = sa.table('product', sa.column('id', sa.Integer()), sa.column('name', sa.String()),
                    sa.column('category', sa.String()), sa.column('description', sa.Text()),
                    sa.column('keywords', sa.Text()), sa.column('search_words', sa.Text()))
_item = sa.table('item', sa.column('product_id', sa.Integer()), sa.column('sku', sa.String()),
                 sa.column('supplier', sa.String()), sa.column('size_rank', sa.Integer()),
                 sa.column('size', sa.String()))


def backfill_search_words(connection):
    """Write every product's search_words; returns how many products were written."""
    # The app's own words (the same normalising and stemming as the searches that read them).
    from inventory.catalog.search import product_words

    ids = connection.execute(sa.select(_product.c.id).order_by(_product.c.id)).scalars().all()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        pairs = {}
        for product_id, sku, supplier in connection.execute(
                sa.select(_item.c.product_id, _item.c.sku, _item.c.supplier).where(_item.c.product_id.in_(chunk))
                .order_by(_item.c.product_id, _item.c.size_rank, _item.c.size, _item.c.sku)):
            pairs.setdefault(product_id, []).append((sku, supplier))
        rows = [{'b_id': product_id, 'b_words': product_words(name, category, description, keywords or '',
                                                              pairs.get(product_id, []))}
                for product_id, name, category, description, keywords in connection.execute(
                    sa.select(_product.c.id, _product.c.name, _product.c.category, _product.c.description,
                              _product.c.keywords).where(_product.c.id.in_(chunk)))]
        connection.execute(sa.update(_product).where(_product.c.id == sa.bindparam('b_id'))
                           .values(search_words=sa.bindparam('b_words')), rows)
    return len(ids)


def upgrade():
    with op.batch_alter_table('product') as batch:
        batch.add_column(sa.Column('keywords', sa.Text(), server_default='', nullable=False))
        batch.add_column(sa.Column('search_words', sa.Text(), server_default='', nullable=False))
    backfill_search_words(op.get_bind())


def downgrade():
    # Not batch mode on SQLite: it would copy "product" into a new table, and the items that refer
    # to products stop that (foreign keys are on). SQLite 3.35+ drops a plain column in place.
    for column in ('search_words', 'keywords'):
        if op.get_bind().dialect.name == 'sqlite':
            op.execute(f'ALTER TABLE product DROP COLUMN {column}')
        else:
            op.drop_column('product', column)
