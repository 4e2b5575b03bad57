"""The large stockroom for bench/run.py: built once per seed version, schema and day, cached, and
copied fresh for every run (a file copy on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL).

Also the app-side chores of a run that are not HTTP requests: API tokens for the clients, the
codes of the busiest bin and item, the oversell check and the in-process forecast timing.
"""
import os
import shutil
import statistics
import sys
import time
from datetime import date, timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import flask_migrate  # noqa: E402
from sqlalchemy import create_engine, func, make_url, select, text  # noqa: E402

from inventory import MIGRATIONS, create_app  # noqa: E402
from inventory.config import normalize_database_url  # noqa: E402
from inventory.database import schema_state  # noqa: E402
from inventory.demo_large import SEED_VERSION, seed_large  # noqa: E402
from inventory.extensions import db  # noqa: E402

CACHE = os.path.join(ROOT, "instance", "bench")


def _app(url):
    return create_app({"SQLALCHEMY_DATABASE_URI": normalize_database_url(url), "SECRET_KEY": "bench",
                       "INSTANCE_PATH": CACHE, "EMBEDDED_DATABASE": False, "SKIP_SCHEMA_CHECK": True})


def _scale_tag(scale):
    return f"_{str(scale).replace('.', '_')}_"


def cache_key(scale):
    head = schema_state(create_engine("sqlite://"), MIGRATIONS)[1]
    return f"v{SEED_VERSION}_{head}_{str(scale).replace('.', '_')}_{date.today():%Y%m%d}"


def _build(url, scale):
    app = _app(url)
    with app.app_context():
        flask_migrate.upgrade(directory=MIGRATIONS)
        started = time.perf_counter()
        seed_large(db.session, scale=scale)
        print(f"  built the stockroom in {time.perf_counter() - started:.0f} s", flush=True)
        if db.engine.dialect.name == "sqlite":
            with db.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            # What autovacuum does soon after a bulk load on a real server: statistics for the
            # planner and a visibility map for index-only scans.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")
        db.session.remove()
        db.engine.dispose()


def fresh_sqlite(scale, run_dir):
    """A fresh copy of the cached SQLite stockroom in run_dir; returns its URL."""
    os.makedirs(CACHE, exist_ok=True)
    cached = os.path.join(CACHE, f"large_{cache_key(scale)}.sqlite3")
    if not os.path.exists(cached):
        print(f"Building the SQLite stockroom (scale {scale}) once, cached as {cached} ...", flush=True)
        building = cached + ".building"
        for leftover in (building, building + "-wal", building + "-shm"):
            if os.path.exists(leftover):
                os.remove(leftover)
        _build("sqlite:///" + building, scale)
        os.replace(building, cached)
        for name in os.listdir(CACHE):  # older versions or days of this scale are of no more use
            if name.startswith("large_") and _scale_tag(scale) in name and name != os.path.basename(cached):
                os.remove(os.path.join(CACHE, name))
    copy = os.path.join(run_dir, "bench.sqlite3")
    shutil.copyfile(cached, copy)
    return "sqlite:///" + copy


def fresh_postgresql(scale, server_url, run_name="bench_run"):
    """A fresh copy (CREATE DATABASE ... TEMPLATE) of the cached PostgreSQL stockroom; returns
    (its URL, a function that drops it)."""
    url = make_url(normalize_database_url(server_url))
    cached = f"bench_large_{cache_key(scale)}".lower()
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": cached})
        if not exists:
            print(f"Building the PostgreSQL stockroom (scale {scale}) once, cached as database {cached} ...",
                  flush=True)
            connection.execute(text(f'DROP DATABASE IF EXISTS "{cached}_building" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{cached}_building"'))
            _build(url.set(database=f"{cached}_building").render_as_string(hide_password=False), scale)
            connection.execute(text(f'ALTER DATABASE "{cached}_building" RENAME TO "{cached}"'))
            for (name,) in connection.execute(text("SELECT datname FROM pg_database")).all():
                if name.startswith("bench_large_") and _scale_tag(scale) in name and name != cached \
                        and not name.endswith("_building"):  # older versions or days: of no more use
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'DROP DATABASE IF EXISTS "{run_name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{run_name}" TEMPLATE "{cached}"'))
    admin.dispose()

    def drop():
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{run_name}" WITH (FORCE)'))
        engine.dispose()

    return url.set(database=run_name).render_as_string(hide_password=False), drop


def prepare(url, clients):
    """Tokens for `clients` API clients (one rep each), and what the pages are opened on."""
    from inventory.auth import services as auth
    from inventory.auth.models import User
    from inventory.bins.models import Bin
    from inventory.catalog.models import Item, Product
    from inventory.holds.availability import reserved_now
    from inventory.requests import drafts
    from inventory.requests.models import Request, RequestLine
    from inventory.requests.lifecycle import Status
    from inventory.stock.models import Movement, StockLevel
    from inventory.stock.services import on_hand

    app = _app(url)
    with app.app_context():
        session = db.session
        reps = session.scalars(select(User).where(User.role == "rep").order_by(User.id).limit(clients)).all()
        tokens = [auth.create_token(session, reps[n % len(reps)], "bench")[1] for n in range(clients)]
        busiest_rep = session.scalar(select(User.email).join(Request, Request.requester_id == User.id)
                                     .where(User.role == "rep").group_by(User.email)
                                     .order_by(func.count().desc()).limit(1))
        bin_code = session.scalar(select(Bin.code).join(StockLevel, StockLevel.bin_id == Bin.id)
                                  .where(Bin.code != "DISPATCH", StockLevel.quantity > 0).group_by(Bin.code)
                                  .order_by(func.count().desc(), Bin.code).limit(1))
        sku = session.scalar(select(Item.sku).join(Movement, Movement.item_id == Item.id)
                             .where(Item.archived.is_(False)).group_by(Item.sku)
                             .order_by(func.count().desc()).limit(1))
        bins = session.scalars(select(Bin.code).where(Bin.code != "DISPATCH").order_by(Bin.code).limit(300)).all()
        today = date.today()
        candidates = session.execute(
            select(Item.id, Item.sku).join(Item.product)
            .where(Item.archived.is_(False), Product.archived.is_(False), Item.returnable.is_(False),
                   (Item.do_not_use_after.is_(None)) | (Item.do_not_use_after >= today))).all()
        totals = on_hand(session, [c.id for c in candidates])
        held = reserved_now(session, totals)
        free = {c.sku: totals[c.id] - held[c.id] for c in candidates}
        # Reservations spread over the items in stock, with a few nearly sold out among them, so
        # that concurrent clients race for the last units.
        plenty = sorted((sku for sku, n in free.items() if n >= 200), key=lambda s: -free[s])[:40]
        scarce = sorted((sku for sku, n in free.items() if 3 <= n <= 15))[:10]
        # A stock count of the busiest bin, 200 lines (the most a count takes), each counted as
        # the bin holds it: the count books 200 movements and changes no stock level.
        staff = session.scalar(select(User).where(User.role == "staff").order_by(User.id).limit(1))
        staff_token = auth.create_token(session, staff, "bench count")[1]
        in_bin = session.execute(
            select(Item.sku, StockLevel.quantity).join(StockLevel, StockLevel.item_id == Item.id)
            .join(Bin, Bin.id == StockLevel.bin_id).join(Item.product)
            .where(Bin.code == bin_code, Item.archived.is_(False), Product.archived.is_(False))
            .order_by(Item.sku).limit(200)).all()
        count_lines = [(row.sku, row.quantity) for row in in_bin]
        counted = {line[0] for line in count_lines}
        for candidate in candidates:  # fill up to 200 with items the bin holds none of: counted 0
            if len(count_lines) >= 200:
                break
            if candidate.sku not in counted:
                count_lines.append((candidate.sku, 0))
        # The request page as the busiest rep builds it (its budget line, each line's value and
        # availability, who will approve it): 12 lines, needed in two weeks.
        rep_user = session.scalar(select(User).where(User.email == busiest_rep))
        drafts.save(session, rep_user, quantities={sku: 2 for sku in plenty[:12]},
                    details={"purpose": "client_meeting", "needed_by": (today + timedelta(days=14)).isoformat(),
                             "handoff": "pickup", "note": "bench: the request being put together"})
        # A held request's page as its approver opens it: the submitted one with the most lines.
        request_id = session.scalar(
            select(Request.id).join(RequestLine, RequestLine.request_id == Request.id)
            .where(Request.status == Status.SUBMITTED, Request.team_id.is_not(None))
            .group_by(Request.id).order_by(func.count().desc(), Request.id).limit(1))
        session.remove()
        db.engine.dispose()
    return {"tokens": tokens, "rep": busiest_rep, "request_id": request_id, "bin": bin_code, "sku": sku, "label_bins": bins,
            "reserve_skus": plenty, "scarce_skus": scarce, "staff_token": staff_token, "count_lines": count_lines}


def oversold(url):
    """Items whose holds exceed what exists (must be none), and the ledger drift (must be none)."""
    from inventory.catalog.models import Item
    from inventory.requests.models import HOLDING, Request, RequestLine
    from inventory.stock.models import StockLevel
    from inventory.stock.services import check_ledger

    app = _app(url)
    with app.app_context():
        session = db.session
        on_hand = dict(session.execute(select(StockLevel.item_id, func.sum(StockLevel.quantity))
                                       .group_by(StockLevel.item_id)).all())
        held = session.execute(
            select(RequestLine.item_id, func.sum(RequestLine.reserved))
            .join(Request, RequestLine.request_id == Request.id).join(Item, RequestLine.item_id == Item.id)
            .where(Request.status.in_(HOLDING), Item.returnable.is_(False)).group_by(RequestLine.item_id)).all()
        over = [(item_id, int(n), int(on_hand.get(item_id) or 0)) for item_id, n in held
                if int(n) > int(on_hand.get(item_id) or 0)]
        drift = check_ledger(session)
        session.remove()
        db.engine.dispose()
    return over, drift


def time_forecast(url, repeat=3):
    """Median seconds of a full projection in-process: every item projected again and its
    flags stored (what `forecast-refresh`, `send-alerts` and the first read of a day run)."""
    from inventory.catalog.models import Item
    from inventory.forecast import stored

    app = _app(url)
    times = []
    with app.app_context():
        for _ in range(repeat):
            db.session.remove()
            started = time.perf_counter()
            flags = stored.refresh(db.session)
            times.append(time.perf_counter() - started)
        items = db.session.scalar(select(func.count(Item.id)).where(Item.archived.is_(False)))
        db.session.remove()
        db.engine.dispose()
    return statistics.median(times), items, flags
