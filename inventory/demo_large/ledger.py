"""The large stockroom's ledger: three years of each item, in time order."""
from datetime import datetime, timedelta

from ..requests.models import request_number
from .common import COUNTER_REASONS


class Ledger:
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
                    number = request_number(request["id"])
                    self._move("pick", item, home, self.dispatch, quantity, at, user,
                               reason=f"Picked for {number}", reference=number)
                    self._move("issue", item, self.dispatch, None, quantity, request["handed_at"], user,
                               reason=f"Handed over for {number}", reference=number)
                    self._reorder(item, home, overflow, request["handed_at"], user)
                elif kind == "return":
                    request, quantity = data
                    number = request_number(request["id"])
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
                   unit_cost=item["unit_cost"], user_id=user_id, created_at=min(at, self.now))
        self.rows["movement"].append(row)
        return row
