"""The large stockroom's people and places: users, products and their sizes, bins."""
from datetime import timedelta
from decimal import Decimal

from ..auth import services as auth
from ..bins.models import DISPATCH_CODE
from ..catalog.models import size_rank
from ..catalog.search import product_words
from .common import (COLOURS, DISPLAYS, FIRST, GARMENTS, LAST, LINES, PRINT_KINDS, PROMO, ROLE_SHARE, SIZES,
                     SUPPLIERS, TEAMS, _zipf_cumulative)


def _team_budget(full, requests):
    """A team's quarterly budget at this size of stockroom (`full` at 20,000 requests), in whole
    hundreds; None: the team has no budget."""
    if full is None:
        return None
    return Decimal(max(100, round(full * requests / 20_000 / 100) * 100))


class Catalog:
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
        self._teams()

    def _teams(self):
        """A few teams (cost centres) with a budget per quarter, their approver a manager; reps
        in them by turn, every fifth in none. No random draws: the rest of the stockroom stays
        the same."""
        managers = self.users["manager"]
        self.team_of, self.team_approvers = {}, {}
        team_ids = []
        for n, (name, budget) in enumerate(TEAMS):
            team_id = self.ids.next("team")
            team_ids.append(team_id)
            self.rows["team"].append(dict(id=team_id, name=name, budget=_team_budget(budget, self.size.requests),
                                          approver_id=None, auto_approve_up_to=Decimal("0"),
                                          second_approval_above=None, created_at=self.start - timedelta(days=30)))
            self.team_approvers[team_id] = managers[n // 2 % len(managers)]
        for n, user_id in enumerate(self.users["rep"]):
            if n % (len(team_ids) + 1) < len(team_ids):
                self.team_of[user_id] = team_ids[n % (len(team_ids) + 1)]
        for row in self.rows["user"]:
            row["team_id"] = self.team_of.get(row["id"])

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
        description = f"{name}, with our logo."
        row = dict(id=product_id, name=name, category=category, description=description, keywords="",
                   photo_id=None, archived=archived, created_at=created)
        self.rows["product"].append(row)
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
        # Written here, as the catalog's rules would (the rows go in as bulk INSERTs).
        skus = [item["sku"] for item in self.items[-len(sizes or [None]):]]
        row["search_words"] = product_words(name, category, description, "", [(each, supplier) for each in skus])

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
        self.rows["bin"].append(dict(id=self.dispatch, code=DISPATCH_CODE, name="Picked, waiting for hand-over",
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
