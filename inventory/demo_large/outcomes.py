"""Where the history leaves the large stockroom: requests as the rules would have left them,
purchase orders, stock levels."""
from datetime import timedelta

from ..purchasing.models import order_number
from ..requests.models import request_number


class Outcomes:
    def _open_requests(self):
        rng = self.rng
        on_hand = {}
        for (item_id, _bin), quantity in self.levels.items():
            on_hand[item_id] = on_hand.get(item_id, 0) + quantity
        held = {}
        managers, staff = self.users["manager"], self.users["staff"]
        for request in self.requests:
            request_id, number = request["id"], request_number(request["id"])
            status = request["status"]
            created = request["created_at"]
            steps = [("submitted", request["requester_id"], created, "")]
            lines = []
            if status in ("done", "cancelled", "rejected"):
                for item, quantity in request["lines"]:
                    line = dict(quantity=quantity, reserved=0, backordered=0, picked=0, issued=0, returned=0,
                                consumed=0, lost=0, damaged=0, short=0, issued_unit_cost=None)
                    if status == "done":
                        line["issued"], line["issued_unit_cost"] = quantity, item["unit_cost"]
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
                                             issued=0, returned=0, consumed=0, lost=0, damaged=0, short=0,
                                             issued_unit_cost=None)))
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
                team_id=self.team_of.get(request["requester_id"]),
                rejection_reason=request.get("rejection_reason", ""), created_at=created, updated_at=updated))
            for item, line in lines:
                self.rows["request_line"].append(dict(id=self.ids.next("request_line"), request_id=request_id,
                                                      item_id=item["id"], **line))
            for action, user_id, at, note in steps:
                self.rows["request_step"].append(dict(id=self.ids.next("request_step"), request_id=request_id,
                                                      user_id=user_id, action=action, note=note, at=min(at, self.now)))

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
            number = order_number(order_id)
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
