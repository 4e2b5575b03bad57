"""A stockroom the size of a real marketing department, for `flask seed-demo --scale large`, the
benchmark (bench/run.py) and the query-budget tests.

At scale 1: about 5,000 SKUs (1,000 products, most apparel in sizes), 1,000 bins, 200,000 ledger
rows over three years, 20,000 requests, 200 events with kits, 300 purchase orders, 50 users and four
teams (three with a budget per quarter; most reps in one, their requests stamped with it).
Use is skewed as in real life: item popularity follows a Zipf law, so a few items move a lot and
most rarely. The same seed always builds the same stockroom (a seeded RNG, dates relative to
today).

It is written with bulk INSERTs rather than the rules (the rules take seconds per hundred rows),
so it keeps the rules' invariants itself: stock levels are the sum of the ledger and never
negative (`flask check` proves it), request lines are in states the rules produce, and no
reservation holds more than is available.
"""
import random
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import insert, text, update

from ..auth.models import User
from ..bins.models import Bin
from ..budgets.models import Team
from ..catalog.models import Item, Product
from ..events.models import Event, KitLine, KitTemplate
from ..purchasing.models import PurchaseOrder, PurchaseOrderLine
from ..requests.models import Request, RequestLine, RequestStep
from ..stock.models import Movement, StockLevel
from ..timeutil import utcnow
from .catalog import Catalog
from .common import _Ids
from .ledger import Ledger
from .outcomes import Outcomes
from .plans import Plans

# Bump when the data this module builds changes, so cached benchmark databases are rebuilt.
SEED_VERSION = 6
BATCH = 5000


@dataclass(frozen=True)
class Size:
    products: int
    bins: int
    movements: int
    requests: int
    events: int
    kits: int
    purchase_orders: int
    users: int

    @classmethod
    def at(cls, scale):
        def n(full, least):
            return max(least, round(full * scale))
        return cls(products=n(1000, 8), bins=n(1000, 6), movements=n(200_000, 400), requests=n(20_000, 40),
                   events=n(200, 3), kits=n(20, 2), purchase_orders=n(300, 4), users=n(50, 8))


def seed_large(session, scale=1.0, seed_value=2026, now=None, echo=None):
    """Fill an empty database with a stockroom of `scale` × the full size. Returns
    [(email, role, password)] for every user."""
    rng = random.Random(seed_value)
    now = (now or utcnow()).replace(microsecond=0)
    size = Size.at(scale)
    builder = _Builder(rng, now, size)
    builder.build()
    _write(session, builder, echo or (lambda message: None))
    return builder.logins


class _Builder(Catalog, Plans, Ledger, Outcomes):
    """Builds every row in memory, part by part (see the mixins), before anything is written."""

    def __init__(self, rng, now, size):
        self.rng, self.now, self.size = rng, now, size
        self.today = now.date()
        self.start = now - timedelta(days=3 * 365)
        self.history_end = now - timedelta(days=15)
        self.ids = _Ids()
        self.rows = {name: [] for name in ("team", "user", "product", "item", "bin", "movement", "stock_level", "event",
                                           "kit_template", "kit_line", "request", "request_line", "request_step",
                                           "purchase_order", "purchase_order_line")}
        self.logins = []

    def build(self):
        self._users()
        self._catalog()
        self._bins()
        self._events_and_kits()
        self._requests()
        self._history()
        self._open_requests()
        self._purchase_orders()
        self._stock_levels()


# Teams before users (a user's team_id); their approvers are set once the users are there.
ORDER = [(Team, "team"), (User, "user"), (Product, "product"), (Item, "item"), (Bin, "bin"), (Event, "event"),
         (KitTemplate, "kit_template"), (KitLine, "kit_line"), (Request, "request"), (RequestLine, "request_line"),
         (RequestStep, "request_step"), (PurchaseOrder, "purchase_order"),
         (PurchaseOrderLine, "purchase_order_line"), (Movement, "movement"), (StockLevel, "stock_level")]


def _write(session, builder, echo):
    connection = session.connection()
    for model, name in ORDER:
        rows = builder.rows[name]
        for start in range(0, len(rows), BATCH):
            connection.execute(insert(model.__table__), rows[start:start + BATCH])
        echo(f"  {len(rows):>8,} {name} rows")
        if name == "user":
            for team_id, approver_id in builder.team_approvers.items():
                connection.execute(update(Team.__table__).where(Team.__table__.c.id == team_id)
                                   .values(approver_id=approver_id))
    if connection.dialect.name == "postgresql":  # explicit ids: move each id sequence past them
        for model, name in ORDER:
            connection.execute(text(
                f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM \"{name}\"), false)"))
    session.commit()
    session.execute(text("ANALYZE"))  # fresh planner statistics for tables that just grew
    session.commit()
