"""The large stockroom's plans: events, kit templates, and every request with its lines."""
from datetime import datetime, timedelta

from .common import CITIES, LINES, OPEN_DAYS, SHOWS, _pick


class Plans:
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
