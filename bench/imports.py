"""How long importing 10,000 items and 10,000 stock rows takes (docs/benchmarks.md).

    python bench/imports.py [--rows 10000] [--database-url postgresql://postgres@127.0.0.1:5432/bench]

Builds a scratch database (SQLite in a temporary folder by default; a PostgreSQL URL is emptied
and migrated first), writes a CSV of `rows` items (a quarter products with four sizes, the rest
single items) and one of `rows` stock rows into new bins, and times through the import rules:
the dry run, the import, the dry run of the items export re-imported (nothing changes), and the
export itself. Not a test: numbers depend on the machine."""
import argparse
import io
import csv
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import flask_migrate  # noqa: E402
from sqlalchemy import text  # noqa: E402

from inventory import MIGRATIONS, create_app  # noqa: E402
from inventory.auth import services as auth  # noqa: E402
from inventory.config import normalize_database_url  # noqa: E402
from inventory.extensions import db  # noqa: E402
from inventory.stock.services import check_ledger  # noqa: E402
from inventory.transfer import exports, services  # noqa: E402


def items_file(rows):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["sku", "product", "size", "category", "unit", "supplier", "unit_cost", "lead_time_days",
                     "reorder_point", "reorder_quantity", "returnable", "do_not_use_after", "notes", "description"])
    sized = rows // 4 // 4
    for n in range(sized):
        for size in ("S", "M", "L", "XL"):
            writer.writerow([f"POLO-{n:05d}-{size}", f"Polo {n}", size, "apparel", "each", "Threadline", "8.50",
                             "14", "10", "50", "no", "", "", f"Polo number {n}"])
    for n in range(rows - sized * 4):
        writer.writerow([f"BRO-{n:05d}", f"Brochure {n}", "", "print", "each", "PrintWorks", "0.35", "21", "200",
                         "1000", "no", "2027-12-31", "=not a formula", ""])
    return out.getvalue()


def stock_file(items_csv, rows):
    skus = [line.split(",", 1)[0] for line in items_csv.splitlines()[1:rows + 1]]
    lines = ["sku,bin,quantity,bin_name,zone"]
    lines += [f"{sku},B-{n // 20:04d},{n % 50 + 1},Shelf {n // 20},Stockroom" for n, sku in enumerate(skus)]
    return "\n".join(lines)


def timed(label, call):
    started = time.perf_counter()
    result = call()
    print(f"  {label:42} {time.perf_counter() - started:6.2f} s")
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = normalize_database_url(args.database_url) if args.database_url else \
            "sqlite:///" + os.path.join(folder, "bench.sqlite3")
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                          "INSTANCE_PATH": folder})
        with app.app_context():
            if args.database_url:
                with db.engine.begin() as connection:
                    db.metadata.drop_all(connection)
                    connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
            flask_migrate.upgrade(directory=MIGRATIONS)
            user = auth.create_user(db.session, "manager@example.com", "manager", "bench-password-2026")
            items = items_file(args.rows)
            stock = stock_file(items, args.rows)
            print(f"{args.rows:,} rows on {db.engine.dialect.name}, Python {sys.version.split()[0]}, "
                  f"{os.cpu_count()} CPUs ({len(items) / 1024:,.0f} KiB of items CSV)")
            report = timed("items: dry run", lambda: services.import_items(db.session, items, dry_run=True))
            assert report.ok, report.bad_rows[:3]
            timed("items: import", lambda: services.import_items(db.session, items))
            exported = timed("items: export", lambda: exports.items_csv(db.session))
            report = timed("items: export re-imported (dry run)",
                           lambda: services.import_items(db.session, exported, dry_run=True))
            assert report.ok and not report.changes
            timed("items: export re-imported", lambda: services.import_items(db.session, exported))
            report = timed("stock: dry run (creating bins)",
                           lambda: services.import_stock(db.session, stock, user, dry_run=True, create_bins=True))
            assert report.ok, report.bad_rows[:3]
            timed("stock: import (creating bins)",
                  lambda: services.import_stock(db.session, stock, user, create_bins=True))
            timed("stock: same file again (nothing changes)",
                  lambda: services.import_stock(db.session, stock, user))
            assert check_ledger(db.session) == []
            db.session.remove()
            if args.database_url:
                with db.engine.begin() as connection:
                    db.metadata.drop_all(connection)
                    connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
            db.engine.dispose()


if __name__ == "__main__":
    main()
