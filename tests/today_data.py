"""A stockroom with something in every section of the Today pages, built through the app's own
rules: for the Today tests (tests/test_today.py, tests/browser/test_today.py) and the tap-target
walk (tests/browser/test_tap_targets.py)."""
from datetime import date, timedelta

from inventory.auth import services as auth
from inventory.bins import services as bins
from inventory.catalog import services as catalog
from inventory.events import services as events
from inventory.purchasing import services as purchasing
from inventory.requests import fulfilment, handover, review, submission
from inventory.stock import services as stock

PASSWORD = "correct horse battery"


def build(session, today=None, password=PASSWORD):
    """Users rep@, staff@, manager@, admin@example.com; polos, a brochure low on stock (order now)
    and a returnable banner; a submitted rush request, an approved one to pick, a banner handed
    over and due back today, an event the rep is on, a purchase order expected today. Returns
    {name: id or code}."""
    today = today or date.today()
    users = {role: auth.create_user(session, f"{role}@example.com", role, password, name=f"{role.title()} Person")
             for role in ("rep", "staff", "manager", "admin")}
    shelf = bins.create_bin(session, "A-01-1", "Polos", "Stockroom A")
    racks = bins.create_bin(session, "B-01-1", "Banners", "Stockroom B")
    polos = catalog.create_product(session, name="Navy polo", category="apparel", sku="POLO-NAVY",
                                   sizes=["S", "M", "L"], supplier="Threadline Apparel")
    for item in polos.items:
        stock.receive(session, item, shelf, 20, users["staff"])
    brochure = catalog.create_product(session, name="Atlas brochure", category="print", sku="BRO-ATLAS",
                                      supplier="PrintWorks Ltd", lead_time_days=21, reorder_point=1000,
                                      reorder_quantity=2000).items[0]
    stock.receive(session, brochure, shelf, 300, users["staff"])
    banner = catalog.create_product(session, name="Roll-up banner", category="display", sku="BANNER-1",
                                    returnable=True).items[0]
    stock.receive(session, banner, racks, 3, users["staff"])
    medium = next(item for item in polos.items if item.size == "M")

    event = events.create_event(session, users["manager"], name="Expo Nord", place="Hamburg",
                                starts_on=today + timedelta(days=20), ends_on=today + timedelta(days=22),
                                ship_by=today + timedelta(days=15), return_by=today + timedelta(days=25))
    rush = submission.submit(session, users["rep"], [(medium, 5)], purpose="client_meeting",
                             needed_by=today + timedelta(days=1), today=today)
    to_pick = submission.submit(session, users["rep"], [(medium, 4), (brochure, 50)], purpose="trade_show",
                                needed_by=today + timedelta(days=10), event_id=event.id, today=today)
    review.approve(session, to_pick.id, users["manager"])
    loan = submission.submit(session, users["rep"], [(banner, 1)], purpose="trade_show", needed_by=today,
                             return_by=today, today=today)
    review.approve(session, loan.id, users["manager"])
    fulfilment.pick(session, loan.id, racks, {loan.lines[0].id: 1}, users["staff"])
    handover.hand_over(session, loan.id, users["staff"])
    order = purchasing.create(session, users["manager"], lines=[("BANNER-1", 2, None)], supplier="Displays Co")
    purchasing.mark_ordered(session, order.id, users["manager"], today, today=today)
    return {"rush": rush.id, "to_pick": to_pick.id, "loan": loan.id, "event": event.id, "order": order.id,
            "product": polos.id, "sku": medium.sku, "bin": shelf.code}
