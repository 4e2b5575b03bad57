"""How long a 300-bin label sheet takes to render, as HTML and as PDF (docs/benchmarks.md).

    python bench/labels.py [--bins 300] [--repeat 3]

Builds a scratch SQLite database in a temporary folder, creates the bins through the app's own
rules, and times GET /labels/sheet and /labels/sheet.pdf (Avery 5160) through the test client, as
a logged-in manager: once cold (no QR code made yet in this process) and then warm (QR codes are
cached; a label URL never changes). Not a test: numbers depend on the machine."""
import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import flask_migrate  # noqa: E402

from inventory import MIGRATIONS, create_app  # noqa: E402
from inventory.auth import services as auth  # noqa: E402
from inventory.bins import services as bins  # noqa: E402
from inventory.extensions import db  # noqa: E402
from inventory.labels import qr  # noqa: E402

PASSWORD = "bench-password-2026"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bins", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sheet", default="avery-5160")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                          "SQLALCHEMY_DATABASE_URI": "sqlite:///" + os.path.join(folder, "bench.sqlite3"),
                          "INSTANCE_PATH": folder, "BASE_URL": "https://stock.example.com"})
        with app.app_context():
            flask_migrate.upgrade(directory=MIGRATIONS)
            for n in range(args.bins):
                bins.create_bin(db.session, f"{chr(65 + n // 100)}-{n // 10 % 10:02d}-{n % 10}",
                                f"Shelf {n}, polos and brochures", f"Stockroom {chr(65 + n // 100)}")
            auth.create_user(db.session, "manager@example.com", "manager", PASSWORD)
            client = app.test_client()
            client.post("/login", data={"email": "manager@example.com", "password": PASSWORD})
            query = f"?what=bins&bins_by=all&sheet={args.sheet}&start=1"
            print(f"{args.bins} bins on {args.sheet}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
            for label, path in (("HTML", "/labels/sheet"), ("PDF", "/labels/sheet.pdf")):
                for state in ("cold", "warm"):
                    if state == "cold":
                        qr.matrix.cache_clear()
                        qr.svg_path.cache_clear()
                    times = []
                    for _ in range(1 if state == "cold" else args.repeat):
                        started = time.perf_counter()
                        response = client.get(path + query)
                        times.append(time.perf_counter() - started)
                        assert response.status_code == 200, response.status_code
                    print(f"  {label:4} {state}: {statistics.median(times):6.2f} s  ({len(response.data) / 1024:,.0f} KiB)")


if __name__ == "__main__":
    main()
