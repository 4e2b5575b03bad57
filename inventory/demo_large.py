"""A stockroom the size of a real marketing department, for `flask seed-demo --scale large`, the
benchmark (bench/run.py) and the query-budget tests.

At scale 1: about 5,000 SKUs (1,000 products, most apparel in sizes), 1,000 bins, 200,000 ledger
rows over three years, 20,000 requests, 200 events with kits, 300 purchase orders and 50 users.
Use is skewed as in real life: item popularity follows a Zipf law, so a few items move a lot and
most rarely. The same seed always builds the same stockroom (a seeded RNG, dates relative to
today).

It is written with bulk INSERTs rather than the rules (the rules take seconds per hundred rows),
so it keeps the rules' invariants itself: stock levels are the sum of the ledger and never
negative (`flask check` proves it), request lines are in states the rules produce, and no
reservation holds more than is available.
"""
import bisect
import itertools
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert, text

from .auth import services as auth
from .auth.models import User
from .bins.models import Bin
from .catalog.models import Item, Product, size_rank
from .events.models import Event, KitLine, KitTemplate
from .purchasing.models import PurchaseOrder, PurchaseOrderLine
from .requests.models import Request, RequestLine, RequestStep
from .stock.models import Movement, StockLevel
from .timeutil import utcnow

# Bump when the data this module builds changes, so cached benchmark databases are rebuilt.
SEED_VERSION = 3
BATCH = 5000
OPEN_DAYS = 10

ROLE_SHARE = (("admin", 1), ("manager", 4), ("staff", 10), ("rep", 35))
FIRST = ["Alex", "Sam", "Riley", "Jordan", "Morgan", "Taylor", "Casey", "Jamie", "Robin", "Kim", "Noah", "Mia",
         "Lena", "Omar", "Priya", "Chen", "Sofia", "Lukas", "Emma", "Ben", "Ines", "Tom", "Yara", "Jonas", "Ava"]
LAST = ["Field", "Stone", "Berg", "Novak", "Keller", "Rossi", "Meyer", "Silva", "Okafor", "Larsen", "Weber",
        "Haas", "Brandt", "Costa", "Ito", "Walsh", "Nowak", "Fischer", "Moreau", "Lind"]
GARMENTS = [("POLO", "polo"), ("TEE", "T-shirt"), ("HOOD", "hoodie"), ("FLC", "fleece jacket"),
            ("SOFT", "softshell jacket"), ("QZIP", "quarter-zip"), ("VEST", "vest"), ("RAIN", "rain jacket"),
            ("LSTEE", "long-sleeve tee"), ("OXF", "oxford shirt")]
COLOURS = [("NAVY", "Navy"), ("BLK", "Black"), ("WHT", "White"), ("GRY", "Heather grey"), ("RED", "Red"),
           ("ROY", "Royal blue"), ("GRN", "Forest green"), ("SKY", "Sky blue"), ("CHR", "Charcoal"),
           ("BUR", "Burgundy"), ("ORG", "Orange"), ("TEAL", "Teal")]
SIZES = ["XS", "S", "M", "L", "XL", "XXL", "3XL", "4XL"]
LINES = ["Atlas", "Nimbus", "Orion", "Vega", "Helix", "Quartz", "Summit", "Pulse", "Harbor", "Zenith"]
PRINT_KINDS = [("BRO", "product brochure", "0.85"), ("FLY", "one-pager", "0.12"), ("DS", "datasheet", "0.10"),
               ("CS", "case study", "0.30"), ("PST", "poster", "2.40"), ("PC", "postcard", "0.09")]
PROMO = [("PEN", "ballpoint pen", "0.45", "each"), ("MUG", "ceramic mug", "3.20", "each"),
         ("STK", "sticker pack", "0.60", "pack"), ("TOTE", "canvas tote", "2.75", "each"),
         ("USB", "USB drive 32 GB", "4.90", "each"), ("BTL", "water bottle", "6.10", "each"),
         ("NB", "notebook A5", "3.40", "each"), ("LAN", "lanyard", "0.90", "each"),
         ("CAPS", "baseball cap", "5.50", "each"), ("PWR", "power bank", "11.00", "each")]
DISPLAYS = [("ROLL", "roll-up banner", "95.00"), ("POP", "pop-up booth display", "1450.00"),
            ("FLAG", "beach flag", "160.00"), ("CNTR", "counter with print", "620.00"),
            ("SCRN", "55\" screen stand", "980.00")]
SUPPLIERS = {"apparel": ["Threadline Apparel", "NorthStitch", "Kleiderwerk"],
             "print": ["PrintWorks Ltd", "Druckhaus Nord", "Paperlane"],
             "promo": ["PromoHub", "BagCo", "TechSwag", "GiftLogic"],
             "display": ["ExpoBuild", "PrintWorks Ltd", "Standfest"], "kit": [""]}
CITIES = ["Hamburg", "Berlin", "Munich", "Cologne", "Vienna", "Zurich", "Amsterdam", "Paris", "Milan", "Madrid",
          "London", "Stockholm", "Copenhagen", "Prague", "Warsaw", "Lisbon"]
SHOWS = ["Expo", "Partner day", "Roadshow", "Summit", "Trade fair", "Tech days", "Dealer fair", "Conference"]
COUNTER_REASONS = ["Handed out at the counter", "Given to new sales hires", "Damaged on the shelf",
                   "Used for a customer visit", "Sent to a partner"]


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


class _Ids:
    """Explicit primary keys, so rows can refer to each other before they are written."""

    def __init__(self):
        self.counters = {}

    def next(self, table):
        self.counters[table] = self.counters.get(table, 0) + 1
        return self.counters[table]


def _zipf_cumulative(count, rng, exponent=1.0):
    """Cumulative Zipf weights over `count` things in a random order of popularity."""
    ranks = list(range(1, count + 1))
    rng.shuffle(ranks)
    weights = [1.0 / rank ** exponent for rank in ranks]
    return weights, list(itertools.accumulate(weights))


def _pick(rng, population, cumulative):
    return population[bisect.bisect_left(cumulative, rng.random() * cumulative[-1])]


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


class _Builder:
    def __init__(self, rng, now, size):
        self.rng, self.now, self.size = rng, now, size
        self.today = now.date()
        self.start = now - timedelta(days=3 * 365)
        self.history_end = now - timedelta(days=15)
        self.ids = _Ids()
        self.rows = {name: [] for name in ("user", "product", "item", "bin", "movement", "stock_level", "event",
                                           "kit_template", "kit_line", "request", "request_line", "request_step",
                                           "purchase_order", "purchase_order_line")}
        self.logins = []

    # People, catalog, bins ---------------------------------------------------------------

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

    def _users(self):
        total = self.size.users
        quota = {role: max(1, round(total * share / 50)) for role, share in ROLE_SHARE}
        quota["rep"] = max(1, total - sum(q for r, q in quota.items() if r != "rep"))
        hashes = {role: auth.hash_password(f"demo-{role}-2026") for role in quota}
        self.users = {role: [] for role in quota}
        for role, count in quota.items():
            for n in range(1, count + 1):
                user_id = self.ids.next("user")
                email = f"{role}@example.com" if n == 1 else f"{role}{n}@example.com"
                name = f"{FIRST[user_id % len(FIRST)]} {LAST[(user_id * 7) % len(LAST)]}"
                self.rows["user"].append(dict(id=user_id, email=email, name=name, role=role,
                                              password_hash=hashes[role], active=True,
                                              created_at=self.start - timedelta(days=30)))
                self.users[role].append(user_id)
                self.logins.append((email, role, f"demo-{role}-2026"))
        self.rep_weights = _zipf_cumulative(len(self.users["rep"]), self.rng, 0.8)[1]

    def _catalog(self):
        rng, size = self.rng, self.size
        apparel = round(size.products * 0.6)
        display = max(1, round(size.products * 0.05))
        kit = max(1, round(size.products * 0.03))
        promo = max(1, round(size.products * 0.12))
        printed = max(1, size.products - apparel - display - kit - promo)
        self.items = []  # dicts, as written
        for n in range(apparel):
            code, garment = GARMENTS[n % len(GARMENTS)]
            colour_code, colour = COLOURS[(n // len(GARMENTS)) % len(COLOURS)]
            line = LINES[(n // (len(GARMENTS) * len(COLOURS))) % len(LINES)]
            sizes = SIZES[1:7] if n % 3 == 0 else SIZES
            self._product(f"{colour} {garment} ({line})", "apparel", f"{code}-{colour_code}-{n:04d}", sizes,
                          unit_cost=Decimal(rng.choice(["9.80", "14.50", "24.00", "39.00"])),
                          lead=rng.randint(10, 30), reorder=(5, 40))
        for n in range(printed):
            code, kind, cost = PRINT_KINDS[n % len(PRINT_KINDS)]
            line = LINES[(n // len(PRINT_KINDS)) % len(LINES)]
            year = 2024 + (n // (len(PRINT_KINDS) * len(LINES))) % 4
            expired = year < 2026 and rng.random() < 0.5
            self._product(f"{line} {kind} {year}", "print", f"{code}-{line.upper()}-{n:04d}", None,
                          unit_cost=Decimal(cost), lead=rng.randint(7, 28), reorder=(100, 2000),
                          do_not_use_after=self.today - timedelta(days=rng.randint(10, 300)) if expired else None)
        for n in range(promo):
            code, kind, cost, unit = PROMO[n % len(PROMO)]
            line = LINES[(n // len(PROMO)) % len(LINES)]
            self._product(f"{line} {kind}", "promo", f"{code}-{line.upper()}-{n:04d}", None, unit=unit,
                          unit_cost=Decimal(cost), lead=rng.randint(7, 35), reorder=(25, 1000))
        for n in range(display):
            code, kind, cost = DISPLAYS[n % len(DISPLAYS)]
            line = LINES[(n // len(DISPLAYS)) % len(LINES)]
            self._product(f"{line} {kind} #{n // (len(DISPLAYS) * len(LINES)) + 1}", "display",
                          f"{code}-{line.upper()}-{n:04d}", None, unit_cost=Decimal(cost), lead=rng.randint(10, 40),
                          reorder=(0, 0), returnable=True)
        for n in range(kit):
            self._product(f"Booth-in-a-box #{n + 1}", "kit", f"KIT-BOOTH-{n + 1:03d}", None, unit="kit",
                          unit_cost=Decimal("0"), lead=0, reorder=(0, 0), returnable=True)
        self.item_weights, self.item_cumulative = _zipf_cumulative(len(self.items), rng, 1.0)
        self.item_by_id = {item["id"]: item for item in self.items}
        self.by_product = {}
        for item in self.items:
            self.by_product.setdefault(item["product_id"], []).append(item)

    def _product(self, name, category, sku, sizes, unit="each", unit_cost=Decimal("0"), lead=14, reorder=(0, 0),
                 returnable=False, do_not_use_after=None):
        rng = self.rng
        product_id = self.ids.next("product")
        archived = rng.random() < 0.02
        created = self.start - timedelta(days=rng.randint(1, 200))
        self.rows["product"].append(dict(id=product_id, name=name, category=category,
                                         description=f"{name}, with our logo.", photo=None, archived=archived,
                                         created_at=created))
        supplier = rng.choice(SUPPLIERS[category])
        low, high = reorder
        point = rng.randint(low, max(low, high // 4)) if high else 0
        for size in sizes or [None]:
            item = dict(id=self.ids.next("item"), sku=f"{sku}-{size}" if size else sku, product_id=product_id,
                        size=size, size_rank=size_rank(size), unit=unit, supplier=supplier, unit_cost=unit_cost,
                        lead_time_days=lead, reorder_point=point, reorder_quantity=max(point * 4, high // 2),
                        returnable=returnable, do_not_use_after=do_not_use_after, notes="", archived=archived,
                        created_at=created)
            self.rows["item"].append(item)
            self.items.append(item)

    def _bins(self):
        self.bins = []
        zones = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        for n in range(self.size.bins):
            zone, shelf, level = zones[(n // 100) % 26], (n // 5) % 20 + 1, n % 5 + 1
            bin_id = self.ids.next("bin")
            self.rows["bin"].append(dict(id=bin_id, code=f"{zone}-{shelf:02d}-{level}",
                                         name=f"Shelf {shelf}, level {level}", zone=f"Stockroom {zone}",
                                         archived=False, created_at=self.start - timedelta(days=60)))
            self.bins.append(bin_id)
        self.dispatch = self.ids.next("bin")
        self.rows["bin"].append(dict(id=self.dispatch, code="DISPATCH", name="Picked, waiting for hand-over",
                                     zone="Dispatch", archived=False, created_at=self.start))
        # A product's sizes share a home bin; the busiest items get an overflow bin as well.
        self.home, self.overflow = {}, {}
        for n, (product_id, items) in enumerate(sorted(self.by_product.items())):
            home = self.bins[(n * 7) % len(self.bins)]
            for item in items:
                self.home[item["id"]] = home
        for index, item in enumerate(self.items):
            if self.item_weights[index] > 0.02:
                self.overflow[item["id"]] = self.rng.choice([b for b in self.bins if b != self.home[item["id"]]]
                                                            or self.bins)

    # Events, kits, requests ---------------------------------------------------------------

    def _events_and_kits(self):
        rng = self.rng
        self.kits = []
        returnable = [i for i in self.items if i["returnable"] and not i["archived"]]
        print_items = [i for i in self.items if not i["returnable"] and not i["archived"]
                       and i["do_not_use_after"] is None and i["size"] is None]
        apparel = [items for items in self.by_product.values() if items[0]["size"] and not items[0]["archived"]]
        for n in range(self.size.kits):
            kit_id = self.ids.next("kit_template")
            self.rows["kit_template"].append(dict(id=kit_id, name=f"Trade show kit {n + 1}", archived=False,
                                                  description="One booth's worth: a display, handouts, polos.",
                                                  created_at=self.start + timedelta(days=n)))
            components = {}
            if returnable:
                components[rng.choice(returnable)["id"]] = 1
            for item in rng.sample(print_items, min(len(print_items), rng.randint(2, 5))):
                components[item["id"]] = rng.choice([50, 100, 200])
            if apparel:
                for item in rng.choice(apparel)[1:5]:
                    components[item["id"]] = rng.randint(1, 4)
            for item_id, quantity in components.items():
                self.rows["kit_line"].append(dict(id=self.ids.next("kit_line"), kit_id=kit_id, item_id=item_id,
                                                  quantity=quantity))
            self.kits.append((kit_id, list(components.items())))
        self.events = []
        span = (self.today - self.start.date()).days
        upcoming = max(2, round(self.size.events * 0.15))
        for n in range(self.size.events):
            if n < self.size.events - upcoming:
                starts = self.start.date() + timedelta(days=30 + (span - 60) * n // (self.size.events - upcoming))
            else:
                starts = self.today + timedelta(days=rng.randint(10, 150))
            length = rng.randint(0, 2)
            event_id = self.ids.next("event")
            manager = rng.choice(self.users["manager"])
            self.rows["event"].append(dict(
                id=event_id, name=f"{rng.choice(LINES)} {rng.choice(SHOWS)} {rng.choice(CITIES)} {starts.year}",
                place=f"Messe {rng.choice(CITIES)}", starts_on=starts, ends_on=starts + timedelta(days=length),
                ship_by=starts - timedelta(days=rng.randint(3, 7)), return_by=starts + timedelta(days=length + 4),
                owner_id=manager, notes="", cancelled=rng.random() < 0.03,
                created_at=datetime.combine(starts - timedelta(days=90), datetime.min.time())))
            self.events.append(self.rows["event"][-1])

    def _request_lines(self, now=False):
        """Lines for one request: 1 to 8 items by popularity, apparel as a size breakdown; a
        request made now skips what the rules would refuse (archived, past do-not-use-after)."""
        rng = self.rng
        chosen = {}
        for _ in range(min(8, 1 + int(rng.expovariate(0.9)))):
            item = _pick(rng, self.items, self.item_cumulative)
            expired = item["do_not_use_after"] is not None and item["do_not_use_after"] < self.today
            if item["archived"] or (now and expired):
                continue
            siblings = self.by_product[item["product_id"]] if item["size"] else [item]
            for one in siblings[:rng.randint(1, 4)] if item["size"] else siblings:
                if one["returnable"]:
                    quantity = 1
                elif one["size"]:
                    quantity = rng.randint(1, 12)
                elif one["reorder_quantity"] >= 1000:
                    quantity = rng.choice([25, 50, 100, 200, 300])
                else:
                    quantity = rng.randint(2, 60)
                chosen[one["id"]] = quantity
        return list(chosen.items())

    def _requests(self):
        """Every request, with its lines and (for those done) what happened to them."""
        rng = self.rng
        self.requests = []
        total = self.size.requests
        past_events = [e for e in self.events if e["ship_by"] < self.history_end.date() and not e["cancelled"]]
        # A request is open for about ten days (submitted to handed over): at the history's rate of
        # requests per day, that many are open now.
        open_count = max(10, round(total * OPEN_DAYS / (3 * 365)))
        kit_requests = []
        for event in past_events:
            kit_id, components = rng.choice(self.kits)
            kit_requests.append((event, kit_id, components, rng.randint(1, 2)))
        history_count = total - open_count
        span = (self.history_end - self.start).total_seconds()
        for n in range(history_count):
            if kit_requests and n % max(1, history_count // len(kit_requests)) == 0:
                event, kit_id, components, count = kit_requests.pop()
                created = datetime.combine(event["ship_by"] - timedelta(days=rng.randint(10, 40)),
                                           datetime.min.time()) + timedelta(hours=rng.randint(8, 17))
                lines = [(item_id, quantity * count) for item_id, quantity in components]
                spec = dict(event=event, kit_id=kit_id, kit_count=count, purpose="trade_show",
                            needed_by=event["ship_by"], return_by=event["return_by"])
            else:
                created = self.start + timedelta(seconds=span * (n / history_count) ** 0.8)
                lines = self._request_lines()
                if not lines:
                    continue
                needed = min(created.date() + timedelta(days=rng.randint(1, 21)),
                             (self.history_end + timedelta(days=10)).date())
                spec = dict(event=None, kit_id=None, kit_count=0, purpose=rng.choice(
                    ["client_meeting", "client_meeting", "trade_show", "other"]), needed_by=needed,
                    return_by=needed + timedelta(days=rng.randint(2, 10)))
            roll = rng.random()
            status = "cancelled" if roll < 0.08 else ("rejected" if roll < 0.12 else "done")
            self.requests.append(self._request(created, lines, status, spec))
        for n in range(open_count):
            created = self.now - timedelta(hours=rng.randint(1, OPEN_DAYS * 24))
            lines = self._request_lines(now=True)
            if not lines:
                continue
            needed = self.today + timedelta(days=rng.randint(0, 60))
            spec = dict(event=None, kit_id=None, kit_count=0, purpose=rng.choice(["client_meeting", "other"]),
                        needed_by=needed, return_by=needed + timedelta(days=rng.randint(2, 10)))
            status = rng.choice(["submitted", "submitted", "submitted", "approved", "approved", "picking", "ready"])
            self.requests.append(self._request(created, lines, status, spec))
        for event in self.events:
            if event["ship_by"] >= self.today and not event["cancelled"]:
                kit_id, components = rng.choice(self.kits)
                count = rng.randint(1, 3)
                created = self.now - timedelta(hours=rng.randint(1, 10 * 24))
                spec = dict(event=event, kit_id=kit_id, kit_count=count, purpose="trade_show",
                            needed_by=event["ship_by"], return_by=event["return_by"])
                self.requests.append(self._request(created, [(i, q * count) for i, q in components],
                                                   rng.choice(["submitted", "approved"]), spec))
        self.requests.sort(key=lambda r: r["created_at"])
        for request in self.requests:  # ids in the order they were made, as the app gives them
            request["id"] = self.ids.next("request")

    def _request(self, created, lines, status, spec):
        rng = self.rng
        items = self.item_by_id
        has_returnables = any(items[item_id]["returnable"] for item_id, _ in lines)
        return dict(
            created_at=created, status=status,
            requester_id=_pick(rng, self.users["rep"], self.rep_weights) if spec["kit_id"] is None
            else rng.choice(self.users["manager"]),
            purpose=spec["purpose"], needed_by=max(spec["needed_by"], created.date()),
            return_by=max(spec["return_by"], spec["needed_by"], created.date()) if has_returnables else None,
            handoff="ship" if spec["purpose"] == "trade_show" else "pickup",
            ship_to="Messe, Hall B\nHamburg" if spec["purpose"] == "trade_show" else "",
            note="", event_id=spec["event"]["id"] if spec["event"] else None, kit_id=spec["kit_id"],
            kit_count=spec["kit_count"], lines=[(items[item_id], quantity) for item_id, quantity in lines])

    # The ledger ---------------------------------------------------------------------------

    def _history(self):
        """Simulate each item's three years, in time order: receipts whenever stock runs short,
        picks and issues for requests handed over, returns, moves, adjustments and counts."""
        rng = self.rng
        timeline = {item["id"]: [] for item in self.items}
        request_movements = 0
        for request in self.requests:
            if request["status"] != "done":
                continue
            picked_at = (datetime.combine(request["needed_by"], datetime.min.time())
                         - timedelta(hours=rng.randint(4, 40)))
            picked_at = max(picked_at, request["created_at"] + timedelta(hours=1))
            handed_at = picked_at + timedelta(hours=rng.randint(1, 20))
            request["picked_at"], request["handed_at"] = picked_at, handed_at
            out_now = request["return_by"] is not None and request["return_by"] >= self.history_end.date() - \
                timedelta(days=3) and rng.random() < 0.7
            request["out_now"] = out_now
            request["returned_at"] = None if out_now else (
                datetime.combine(request["return_by"], datetime.min.time()) + timedelta(hours=rng.randint(9, 60))
                if request["return_by"] else None)
            for item, quantity in request["lines"]:
                timeline[item["id"]].append((picked_at, 1, "request", (request, quantity)))
                request_movements += 2
                if item["returnable"] and request["returned_at"]:
                    timeline[item["id"]].append((request["returned_at"], 0, "return", (request, quantity)))
                    request_movements += 1
        budget = max(0, self.size.movements - request_movements - 2 * len(self.items))
        total_weight = sum(self.item_weights)
        span = (self.history_end - self.start).total_seconds()
        for index, item in enumerate(self.items):
            extra = int(budget * self.item_weights[index] / total_weight)
            if item["returnable"]:
                extra //= 10
            for _ in range(extra):
                at = self.start + timedelta(seconds=rng.random() * span)
                timeline[item["id"]].append((at, 2, rng.choice(["move", "move", "adjust", "count"]), None))
        self.levels = {}  # (item_id, bin_id) -> quantity
        self.receipts = []  # (item, bin_id, quantity, at, movement row) for purchase orders
        staff = self.users["staff"]
        for item in self.items:
            home, overflow = self.home[item["id"]], self.overflow.get(item["id"])
            opening = item["reorder_quantity"] or (rng.randint(1, 4) if item["returnable"] else rng.randint(20, 200))
            self._move("receive", item, None, home, opening, item["created_at"] + timedelta(days=rng.randint(1, 20)),
                       rng.choice(staff), reason="Opening stock", reference="Opening stock")
            for at, _order, kind, data in sorted(timeline[item["id"]], key=lambda e: (e[0], e[1])):
                user = rng.choice(staff)
                if kind == "request":
                    request, quantity = data
                    self._restock(item, home, overflow, quantity, at - timedelta(hours=2), user)
                    number = f"R-{request['id']:05d}"
                    self._move("pick", item, home, self.dispatch, quantity, at, user,
                               reason=f"Picked for {number}", reference=number)
                    self._move("issue", item, self.dispatch, None, quantity, request["handed_at"], user,
                               reason=f"Handed over for {number}", reference=number)
                    self._reorder(item, home, overflow, request["handed_at"], user)
                elif kind == "return":
                    request, quantity = data
                    number = f"R-{request['id']:05d}"
                    self._move("return", item, None, home, quantity, at, user, reason=f"Returned from {number}",
                               reference=number)
                elif kind == "move" and overflow:
                    here, there = (home, overflow) if self.levels.get((item["id"], home), 0) > 1 else (overflow, home)
                    have = self.levels.get((item["id"], here), 0)
                    if have >= 2:
                        self._move("move", item, here, there, max(1, have // 3), at, user,
                                   reason="Shelf full; overflow" if here == home else "Refill the pick shelf")
                elif kind in ("move", "adjust"):
                    have = self.levels.get((item["id"], home), 0)
                    if have >= 2 and rng.random() < 0.85:
                        change = max(1, min(have // 5, rng.randint(1, 30)))
                        self._move("adjust", item, home, None, change, at, user, reason=rng.choice(COUNTER_REASONS))
                        self._reorder(item, home, overflow, at, user)
                    else:
                        self._move("adjust", item, None, home, rng.randint(1, 10), at, user,
                                   reason="Found a carton behind the shelf")
                else:
                    have = self.levels.get((item["id"], home), 0)
                    counted = max(0, have + rng.choice([0, 0, 0, 0, -1, -2, 1]))
                    difference = counted - have
                    self._move("count", item, home if difference < 0 else None, home if difference >= 0 else None,
                               abs(difference), at, user, reason=f"counted {counted}, expected {have}",
                               counted=counted)
                    self._reorder(item, home, overflow, at, user)
        self.request_movements = request_movements

    def _reorder(self, item, home, overflow, at, user):
        """Stock under the reorder point is reordered, as the Reorders page advises, and arrives
        after the supplier's lead time: so most items sit above their reorder point, as in a
        stockroom that follows the forecast."""
        if item["returnable"] or not item["reorder_point"]:
            return
        total = self.levels.get((item["id"], home), 0) + (self.levels.get((item["id"], overflow), 0) if overflow else 0)
        if total < item["reorder_point"]:
            arrives = min(at + timedelta(days=item["lead_time_days"]), self.history_end)
            row = self._move("receive", item, None, home, item["reorder_quantity"], arrives, user,
                             reason="Delivery", reference="Delivery")
            self.receipts.append((item, home, item["reorder_quantity"], arrives, row))

    def _restock(self, item, home, overflow, quantity, at, user):
        have = self.levels.get((item["id"], home), 0)
        if have >= quantity:
            return
        spare = self.levels.get((item["id"], overflow), 0) if overflow else 0
        if spare:
            self._move("move", item, overflow, home, spare, at - timedelta(hours=1), user,
                       reason="Refill the pick shelf")
            have += spare
        if have < quantity:
            amount = max(item["reorder_quantity"], quantity - have + item["reorder_point"], quantity - have)
            if item["returnable"]:
                amount = quantity - have
            row = self._move("receive", item, None, home, amount, at - timedelta(days=1), user,
                             reason="Delivery", reference="Delivery")
            self.receipts.append((item, home, amount, at - timedelta(days=1), row))

    def _move(self, kind, item, from_bin, to_bin, quantity, at, user_id, reason="", reference="", counted=None):
        if from_bin is not None:
            key = (item["id"], from_bin)
            assert self.levels.get(key, 0) >= quantity, (kind, item["sku"], self.levels.get(key), quantity)
            self.levels[key] = self.levels.get(key, 0) - quantity
        if to_bin is not None:
            key = (item["id"], to_bin)
            self.levels[key] = self.levels.get(key, 0) + quantity
        row = dict(id=self.ids.next("movement"), kind=kind, item_id=item["id"], from_bin_id=from_bin,
                   to_bin_id=to_bin, quantity=quantity, counted=counted, reason=reason, reference=reference,
                   user_id=user_id, created_at=min(at, self.now))
        self.rows["movement"].append(row)
        return row

    # Requests, as the rules would have left them ---------------------------------------------

    def _open_requests(self):
        rng = self.rng
        on_hand = {}
        for (item_id, _bin), quantity in self.levels.items():
            on_hand[item_id] = on_hand.get(item_id, 0) + quantity
        held = {}
        managers, staff = self.users["manager"], self.users["staff"]
        for request in self.requests:
            request_id, number = request["id"], f"R-{request['id']:05d}"
            status = request["status"]
            created = request["created_at"]
            steps = [("submitted", request["requester_id"], created, "")]
            lines = []
            if status in ("done", "cancelled", "rejected"):
                for item, quantity in request["lines"]:
                    line = dict(quantity=quantity, reserved=0, backordered=0, picked=0, issued=0, returned=0,
                                consumed=0, lost=0, damaged=0, short=0)
                    if status == "done":
                        line["issued"] = quantity
                        if item["returnable"]:
                            if request["out_now"]:
                                line["reserved"] = quantity
                            else:
                                line["returned"] = quantity
                    lines.append((item, line))
                if status == "done":
                    request["status"] = "handed_over" if request["out_now"] else (
                        "returned" if request["returned_at"] else "handed_over")
                    steps += [("approved", rng.choice(managers), created + timedelta(minutes=30), ""),
                              ("picked", rng.choice(staff), request["picked_at"], ""),
                              ("ready", rng.choice(staff), request["picked_at"], "Ready for pick-up"),
                              ("handed_over", rng.choice(staff), request["handed_at"], "Picked up")]
                    if request["status"] == "returned":
                        steps.append(("returned", rng.choice(staff), request["returned_at"], "Checked in"))
                else:
                    reason = "Not for internal use; ask Sales Ops." if status == "rejected" else ""
                    request["rejection_reason"] = reason
                    steps.append((status, rng.choice(managers) if status == "rejected" else request["requester_id"],
                                  created + timedelta(hours=5), reason))
            else:
                for item, quantity in request["lines"]:
                    free = on_hand.get(item["id"], 0) - held.get(item["id"], 0)
                    if item["returnable"]:
                        free = self.levels.get((item["id"], self.home[item["id"]]), 0) - held.get(item["id"], 0)
                    take = max(0, min(free, quantity))
                    held[item["id"]] = held.get(item["id"], 0) + take
                    lines.append((item, dict(quantity=quantity, reserved=take, backordered=quantity - take, picked=0,
                                             issued=0, returned=0, consumed=0, lost=0, damaged=0, short=0)))
                if status != "submitted":
                    steps.append(("approved", rng.choice(managers), created + timedelta(minutes=30), ""))
                if status in ("picking", "ready"):
                    picked_at = created + timedelta(minutes=50)
                    picked_any = False
                    for item, line in lines:
                        home = self.home[item["id"]]
                        want = line["reserved"] if status == "ready" else line["reserved"] // 2
                        take = min(want, self.levels.get((item["id"], home), 0))
                        if take:
                            self._move("pick", item, home, self.dispatch, take, picked_at, rng.choice(staff),
                                       reason=f"Picked for {number}", reference=number)
                            line["picked"] = take
                            picked_any = True
                    done = all(line["picked"] == line["reserved"] for _i, line in lines) and picked_any
                    request["status"] = "ready" if done else ("picking" if picked_any else "approved")
                    if picked_any:
                        steps.append(("picked", rng.choice(staff), picked_at, ""))
                    if done:
                        steps.append(("ready", rng.choice(staff), picked_at, "Ready for pick-up"))
            updated = max(at for _a, _u, at, _n in steps)
            self.rows["request"].append(dict(
                id=request_id, requester_id=request["requester_id"], purpose=request["purpose"],
                needed_by=request["needed_by"], return_by=request["return_by"], handoff=request["handoff"],
                ship_to=request["ship_to"], note=request["note"], event_id=request["event_id"],
                kit_id=request["kit_id"], kit_count=request["kit_count"], status=request["status"],
                rejection_reason=request.get("rejection_reason", ""), created_at=created, updated_at=updated))
            for item, line in lines:
                self.rows["request_line"].append(dict(id=self.ids.next("request_line"), request_id=request_id,
                                                      item_id=item["id"], **line))
            for action, user_id, at, note in steps:
                self.rows["request_step"].append(dict(id=self.ids.next("request_step"), request_id=request_id,
                                                      user_id=user_id, action=action, note=note, at=min(at, self.now)))

    # Purchase orders and the stock levels ----------------------------------------------------

    def _purchase_orders(self):
        rng = self.rng
        managers = self.users["manager"]
        wanted = self.size.purchase_orders
        open_orders = max(2, round(wanted * 0.1))
        by_supplier = {}
        for receipt in self.receipts:
            by_supplier.setdefault(receipt[0]["supplier"], []).append(receipt)
        groups = []
        for supplier, receipts in sorted(by_supplier.items()):
            receipts.sort(key=lambda r: r[3])
            for start in range(0, len(receipts), 4):
                groups.append((supplier, receipts[start:start + rng.randint(1, 4)]))
        rng.shuffle(groups)
        for supplier, receipts in groups[:wanted - open_orders]:
            arrived = min(r[3] for r in receipts)
            order_id = self.ids.next("purchase_order")
            number = f"PO-{order_id:05d}"
            self.rows["purchase_order"].append(dict(
                id=order_id, supplier=supplier or "Various", status="received", expected_on=arrived.date(),
                event_id=None, note="", created_by_id=rng.choice(managers),
                ordered_at=arrived - timedelta(days=14), created_at=arrived - timedelta(days=15)))
            seen = set()
            for item, _bin, quantity, _at, movement in receipts:
                if item["id"] in seen:
                    continue
                seen.add(item["id"])
                movement["reference"], movement["reason"] = number, f"Received on {number}"
                self.rows["purchase_order_line"].append(dict(
                    id=self.ids.next("purchase_order_line"), order_id=order_id, item_id=item["id"],
                    quantity=quantity, received=quantity, unit_cost=item["unit_cost"]))
        # Orders on their way: for the items reps are waiting for first, then low ones.
        waiting = [row["item_id"] for row in self.rows["request_line"] if row["backordered"]]
        candidates = list(dict.fromkeys(waiting)) + [i["id"] for i in self.items if not i["returnable"]]
        items = {item["id"]: item for item in self.items}
        upcoming = [e for e in self.events if e["ship_by"] >= self.today]
        for n in range(open_orders):
            order_id = self.ids.next("purchase_order")
            status = "ordered" if n % 5 else rng.choice(["draft", "cancelled"])
            chosen = candidates[n * 3:n * 3 + rng.randint(1, 3)] or [rng.choice(self.items)["id"]]
            event = rng.choice(upcoming) if upcoming and n % 2 else None
            self.rows["purchase_order"].append(dict(
                id=order_id, supplier=items[chosen[0]]["supplier"] or "Various", status=status,
                expected_on=self.today + timedelta(days=rng.randint(3, 40)) if status == "ordered" else None,
                event_id=event["id"] if event else None, note="", created_by_id=rng.choice(managers),
                ordered_at=self.now - timedelta(days=rng.randint(1, 10)) if status == "ordered" else None,
                created_at=self.now - timedelta(days=12)))
            for item_id in dict.fromkeys(chosen):
                item = items[item_id]
                self.rows["purchase_order_line"].append(dict(
                    id=self.ids.next("purchase_order_line"), order_id=order_id, item_id=item_id,
                    quantity=max(1, item["reorder_quantity"] or 10), received=0, unit_cost=item["unit_cost"]))

    def _stock_levels(self):
        for (item_id, bin_id), quantity in sorted(self.levels.items()):
            assert quantity >= 0
            self.rows["stock_level"].append(dict(id=self.ids.next("stock_level"), item_id=item_id, bin_id=bin_id,
                                                 quantity=quantity))


ORDER = [(User, "user"), (Product, "product"), (Item, "item"), (Bin, "bin"), (Event, "event"),
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
    if connection.dialect.name == "postgresql":  # explicit ids: move each id sequence past them
        for model, name in ORDER:
            connection.execute(text(
                f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM \"{name}\"), false)"))
    session.commit()
    session.execute(text("ANALYZE"))  # fresh planner statistics for tables that just grew
    session.commit()
