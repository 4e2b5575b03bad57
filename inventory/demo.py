"""A believable marketing stockroom for `flask seed-demo`: polos in four colours and five
sizes, brochures and flyers, promo items, banners and a booth display, 22 bins in two zones,
three months of history, the print pieces' files, and one user per role."""
import io
import random
from datetime import date, timedelta
from decimal import Decimal

from .auth import services as auth
from .bins import services as bins
from .catalog import services as catalog
from .files import services as files
from .stock import services as stock
from .timeutil import utcnow

LOGINS = [
    ("admin@example.com", "admin", "demo-admin-2026", "Alex Admin"),
    ("manager@example.com", "manager", "demo-manager-2026", "Morgan Marketing"),
    ("staff@example.com", "staff", "demo-staff-2026", "Sam Stockroom"),
    ("rep@example.com", "rep", "demo-rep-2026", "Riley Rep"),
]
SIZES = ["S", "M", "L", "XL", "XXL"]
POLO_SPLIT = {"S": 12, "M": 30, "L": 34, "XL": 18, "XXL": 6}  # how a box of 100 polos splits by size


def _products():
    today = date.today()
    polo = dict(category="apparel", sizes=SIZES, unit="each", supplier="Threadline Apparel", unit_cost="14.50",
                lead_time_days=15, reorder_point=8, reorder_quantity=40, keywords="shirt, tee, golf shirt")
    print_piece = dict(category="print", unit="each", supplier="PrintWorks Ltd", lead_time_days=21)
    brochure, flyer = "catalogue, booklet, leaflet", "flyer, leaflet, handout, sell sheet"
    return [
        dict(name="Navy polo", sku="POLO-NAVY", description="Embroidered logo on the chest.", **polo),
        dict(name="Black polo", sku="POLO-BLACK", description="Embroidered logo on the chest.", **polo),
        dict(name="White polo", sku="POLO-WHITE", description="Printed logo, for summer events.", **polo),
        dict(name="Heather grey polo", sku="POLO-GREY", description="Embroidered logo on the sleeve.", **polo),
        dict(name="Atlas product brochure 2026", sku="BRO-ATLAS-26", keywords=brochure, unit_cost="0.85", reorder_point=300,
             reorder_quantity=2000, **print_piece),
        dict(name="Nimbus product brochure 2026", sku="BRO-NIMBUS-26", keywords=brochure, unit_cost="0.85", reorder_point=300,
             reorder_quantity=2000, **print_piece),
        dict(name="Company overview brochure", sku="BRO-COMPANY", keywords=brochure, unit_cost="1.10", reorder_point=150,
             reorder_quantity=1000, **print_piece),
        dict(name="Atlas product brochure 2025", sku="BRO-ATLAS-25", keywords=brochure, unit_cost="0.80", reorder_point=0,
             reorder_quantity=0, do_not_use_after=today - timedelta(days=40),
             notes="Old pricing page. Recycle; do not hand out.", **print_piece),
        dict(name="Atlas one-pager", sku="FLY-ATLAS", keywords=flyer, unit_cost="0.12", reorder_point=500, reorder_quantity=5000,
             **print_piece),
        dict(name="Nimbus one-pager", sku="FLY-NIMBUS", keywords=flyer, unit_cost="0.12", reorder_point=500, reorder_quantity=5000,
             **print_piece),
        dict(name="Webinar series flyer", sku="FLY-WEBINAR", keywords="one-pager, leaflet, handout", unit_cost="0.15", reorder_point=0, reorder_quantity=0,
             do_not_use_after=today + timedelta(days=45), notes="Dates printed on it: spring webinar series.",
             **print_piece),
        dict(name="Logo ballpoint pen", sku="PEN-LOGO", category="promo", keywords="pen, biro, ballpen", unit="each", supplier="PromoHub",
             unit_cost="0.45", lead_time_days=10, reorder_point=250, reorder_quantity=2000),
        dict(name="Ceramic mug", sku="MUG-LOGO", category="promo", keywords="cup, coffee", unit="each", supplier="PromoHub",
             unit_cost="3.20", lead_time_days=18, reorder_point=24, reorder_quantity=144),
        dict(name="Laptop sticker pack", sku="STICKER-PACK", category="promo", keywords="decal, laptop", unit="pack", supplier="PromoHub",
             unit_cost="0.60", lead_time_days=7, reorder_point=100, reorder_quantity=1000),
        dict(name="Canvas tote bag", sku="TOTE-CANVAS", category="promo", keywords="bag, shopper", unit="each", supplier="BagCo",
             unit_cost="2.75", lead_time_days=20, reorder_point=50, reorder_quantity=300),
        dict(name="USB drive 32 GB", sku="USB-32", category="promo", keywords="memory stick, thumb drive, flash drive", unit="each", supplier="TechSwag",
             unit_cost="4.90", lead_time_days=25, reorder_point=30, reorder_quantity=200),
        dict(name="Roll-up banner 2 m", sku="BANNER-ROLLUP", category="display", keywords="roll up, pull-up, stand", unit="each",
             supplier="PrintWorks Ltd", unit_cost="95.00", lead_time_days=14, returnable=True, loss_rate=10,
             description="Atlas and Nimbus on one banner; bag included."),
        dict(name="Pop-up booth display 3 m", sku="DISPLAY-POPUP", category="display", keywords="booth, back wall, stand", unit="each",
             supplier="ExpoBuild", unit_cost="1450.00", lead_time_days=35, returnable=True, loss_rate=5,
             description="Back wall, two lights, transport case."),
        dict(name="Booth-in-a-box", sku="KIT-BOOTH", category="kit", keywords="trade show kit, booth kit", unit="kit", supplier="", unit_cost="0",
             returnable=True, description="Table cloth, banner, brochure stands, extension lead, tape, scissors."),
    ]


BINS = (
    [(f"A-0{shelf}-{level}", name, "Stockroom A") for shelf, name in
     enumerate(["Polos navy", "Polos black", "Polos white", "Polos grey", "Pens and stickers", "Mugs and totes"], 1)
     for level in (1, 2)]
    + [(f"B-0{shelf}-{level}", name, "Stockroom B") for shelf, name in
       enumerate(["Brochures", "Flyers", "Displays", "Kits", "Overflow"], 1) for level in (1, 2)]
)


def seed(session, seed_value=2026):
    """Create the demo. Returns [(email, role, password)] for the logins."""
    rng = random.Random(seed_value)
    users = {}
    for email, role, password, name in LOGINS:
        users[role] = auth.create_user(session, email, role, password, name=name)
    auth.create_user(session, "rep2@example.com", "rep", "demo-rep-2026", name="Jordan Field")
    _seed_teams(session, users)
    bin_rows = {code: bins.create_bin(session, code, name, zone) for code, name, zone in BINS}
    products = []
    for spec in _products():
        spec = dict(spec)
        spec["unit_cost"] = Decimal(spec.get("unit_cost", "0"))
        products.append(catalog.create_product(session, **spec))
    # Last year's brochure names this year's: its flag on Reorders offers the swap.
    catalog.update_item(session, catalog.get_item(session, "BRO-ATLAS-25"), replaced_by="BRO-ATLAS-26")

    staff, manager = users["staff"], users["manager"]
    _seed_files(session, manager)
    start = utcnow() - timedelta(days=90)

    def when(day, hour=9):
        return start + timedelta(days=day, hours=hour, minutes=rng.randint(0, 59))

    def backdate(movements, at):
        for movement in movements if isinstance(movements, list) else [movements]:
            movement.created_at = at
        session.commit()

    placement = {
        "POLO-NAVY": ("A-01-1", "A-01-2"), "POLO-BLACK": ("A-02-1", "A-02-2"),
        "POLO-WHITE": ("A-03-1", "A-03-2"), "POLO-GREY": ("A-04-1", "A-04-2"),
        "BRO-ATLAS-26": ("B-01-1", "B-05-1"), "BRO-NIMBUS-26": ("B-01-2", "B-05-1"),
        "BRO-COMPANY": ("B-01-2", "B-05-2"), "BRO-ATLAS-25": ("B-05-2", None),
        "FLY-ATLAS": ("B-02-1", None), "FLY-NIMBUS": ("B-02-1", None), "FLY-WEBINAR": ("B-02-2", None),
        "PEN-LOGO": ("A-05-1", None), "STICKER-PACK": ("A-05-2", None), "MUG-LOGO": ("A-06-1", None),
        "TOTE-CANVAS": ("A-06-2", None), "USB-32": ("A-05-2", None),
        "BANNER-ROLLUP": ("B-03-1", None), "DISPLAY-POPUP": ("B-03-2", None), "KIT-BOOTH": ("B-04-1", None),
    }
    quantities = {
        "BRO-ATLAS-26": 1800, "BRO-NIMBUS-26": 1200, "BRO-COMPANY": 700, "BRO-ATLAS-25": 350, "FLY-ATLAS": 2500,
        "FLY-NIMBUS": 900, "FLY-WEBINAR": 400, "PEN-LOGO": 1500, "STICKER-PACK": 600, "MUG-LOGO": 96,
        "TOTE-CANVAS": 180, "USB-32": 45, "BANNER-ROLLUP": 3, "DISPLAY-POPUP": 1, "KIT-BOOTH": 2,
    }
    for day, product in enumerate(products):
        for item in product.items:
            base = item.sku.rsplit("-", 1)[0] if item.size else item.sku
            main_code, overflow_code = placement[base]
            if item.size:
                quantity = POLO_SPLIT[item.size] + rng.randint(0, 6)
            else:
                quantity = quantities[item.sku]
            movement = stock.receive(session, item, bin_rows[main_code], quantity, staff,
                                     reference=f"Delivery {1040 + day}", reason="Opening stock")
            backdate(movement, when(day % 10))
            if overflow_code and quantity >= 20:
                moved = quantity // 4 if not item.size else min(6, quantity // 3)
                movement = stock.move(session, item, bin_rows[main_code], bin_rows[overflow_code], moved, staff,
                                      reason="Shelf full; overflow to the top level")
                backdate(movement, when(day % 10 + 2, 14))

    items = {item.sku: item for product in products for item in product.items}
    # Some everyday history: goods handed out at the counter, a count, breakage.
    for day, (sku, code, change, reason) in enumerate([
        ("MUG-LOGO", "A-06-1", -4, "Broken in the box on delivery"),
        ("PEN-LOGO", "A-05-1", -200, "Handed out at the sales kick-off"),
        ("FLY-ATLAS", "B-02-1", -300, "Given to the Atlas webinar team"),
        ("TOTE-CANVAS", "A-06-2", 12, "Found a forgotten carton behind the shelf"),
        ("POLO-NAVY-L", "A-01-1", -5, "Given to the new sales hires"),
        ("STICKER-PACK", "A-05-2", -80, "Developer meetup giveaway"),
    ]):
        movement = stock.adjust(session, items[sku], bin_rows[code], change, manager if day % 2 else staff, reason)
        backdate(movement, when(40 + day * 7, 11))
    counted = stock.count(session, bin_rows["A-05-1"], [(items["PEN-LOGO"], 1290)], staff,
                          reason="Monthly count")
    backdate(counted, when(85, 16))
    counted = stock.count(session, bin_rows["B-01-1"], [(items["BRO-ATLAS-26"], 1350)], staff, reason="Monthly count")
    backdate(counted, when(86, 10))
    _seed_requests(session, users, items, bin_rows)
    _seed_events(session, users, items, bin_rows)
    _seed_loans(session, users, items)
    _seed_purchase_orders(session, users, bin_rows)
    return demo_logins()


# (name, budget per quarter, who is in it): Morgan approves for all three; the admin is in none.
TEAMS = [
    ("Field sales", "2000", ("rep@example.com",)),
    ("Partner sales", "500", ("rep2@example.com",)),
    ("Events and brand", "3000", ("manager@example.com",)),
]


# The print pieces' files: a one-page PDF each to send to clients, and the brochures' masters.
DEMO_FILES = [
    ("FLY-ATLAS", "shareable", "Atlas one-pager", "Atlas", "The fastest way to plan your fleet.", (20, 70, 140)),
    ("FLY-NIMBUS", "shareable", "Nimbus one-pager", "Nimbus", "Cloud backup that just works.", (120, 40, 120)),
    ("BRO-ATLAS-26", "shareable", "Atlas product brochure 2026", "Atlas 2026", "Product brochure, web edition.",
     (20, 70, 140)),
    ("BRO-ATLAS-26", "master", "Atlas brochure 2026, print master", "Atlas 2026", "Print master: 3 mm bleed.",
     (20, 70, 140)),
]


def demo_pdf(title, line, colour):
    """A one-page PDF (A5 at 72 dpi) with a coloured band, a title and a line: drawn by Pillow."""
    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("RGB", (420, 595), "white")
    draw = ImageDraw.Draw(page)
    draw.rectangle((0, 0, 420, 180), fill=colour)
    draw.text((28, 60), title, fill="white", font=ImageFont.load_default(size=44))
    draw.text((28, 220), line, fill=(40, 40, 40), font=ImageFont.load_default(size=18))
    draw.text((28, 540), "Demo Corp · demo.example.com", fill=(120, 120, 120), font=ImageFont.load_default(size=14))
    out = io.BytesIO()
    page.save(out, "PDF", resolution=72)
    return out.getvalue()


def _seed_files(session, manager):
    for sku, kind, title, heading, line, colour in DEMO_FILES:
        files.upload(session, catalog.get_item(session, sku), manager, kind=kind,
                     stream=io.BytesIO(demo_pdf(heading, line, colour)), filename=f"{sku.lower()}-{kind}.pdf",
                     title=title, note="First version.")


def _seed_teams(session, users):
    """Three teams (cost centres) with a budget per period and Morgan as their approver, the demo
    reps in them (and Morgan in the events team, whose kits count there), before any request is
    made: each request counts against its requester's team from the start."""
    from sqlalchemy import select

    from .auth.models import User
    from .budgets import services as teams

    for name, budget, members in TEAMS:
        team = teams.create_team(session, dict(name=name, budget=budget, approver_id=users["manager"].id))
        for email in members:
            teams.set_team(session, session.scalars(select(User).where(User.email == email)).one(), team.id)


def demo_logins():
    """[(email, role, password)] of the demo's users, as seeded (seed-demo prints them again on a
    second run)."""
    return [(email, role, password) for email, role, password, _name in LOGINS] + [
        ("rep2@example.com", "rep", "demo-rep-2026")]


def _seed_requests(session, users, items, bin_rows):
    """A queue with something in every state: new, rush, approved, picked, out, backordered."""
    from .requests import fulfilment, queries, review, submission

    rep, manager, staff = users["rep"], users["manager"], users["staff"]
    today = date.today()
    meeting = submission.submit(session, rep, [(items["POLO-NAVY-M"], 10), (items["POLO-NAVY-L"], 10),
                                               (items["POLO-NAVY-XL"], 5), (items["BRO-ATLAS-26"], 50)],
                                purpose="client_meeting", needed_by=today + timedelta(days=6),
                                note="Acme Corp quarterly review: polos for their team")
    submission.submit(session, rep, [(items["FLY-NIMBUS"], 100), (items["PEN-LOGO"], 50)], purpose="other",
                      needed_by=today + timedelta(days=1), note="Nimbus lunch-and-learn tomorrow")
    show = submission.submit(session, rep, [(items["BANNER-ROLLUP"], 1), (items["BRO-NIMBUS-26"], 300),
                                            (items["TOTE-CANVAS"], 40)],
                             purpose="trade_show", needed_by=today + timedelta(days=12),
                             return_by=today + timedelta(days=16), handoff="ship",
                             ship_to="Hall B, Booth 214\nMesse Nord\nHamburg", note="Regional dealer fair")
    review.approve(session, show.id, manager)
    review.approve(session, meeting.id, manager)
    plan = fulfilment.pick_list(session, queries.get_request(session, meeting.id))
    for bin, lines in plan[:1]:
        fulfilment.pick(session, meeting.id, bin, {line.id: quantity for line, quantity in lines}, staff)
    # Picked and waiting in DISPATCH: the stockroom's Today offers its hand-over.
    from .auth.models import User

    rep2 = session.query(User).filter_by(email="rep2@example.com").one()
    desk = submission.submit(session, rep2, [(items["BRO-ATLAS-26"], 25), (items["PEN-LOGO"], 20)],
                             purpose="client_meeting", needed_by=today + timedelta(days=2),
                             note="Atlas partner visit at their office on Monday")
    review.approve(session, desk.id, manager)
    for bin, lines in fulfilment.pick_list(session, queries.get_request(session, desk.id)):
        fulfilment.pick(session, desk.id, bin, {line.id: quantity for line, quantity in lines}, staff)
    usb = submission.submit(session, rep, [(items["USB-32"], 60)], purpose="trade_show",
                            needed_by=today + timedelta(days=20), allow_partial=True,
                            note="USB drives with the product videos")
    return meeting, show, usb


def _seed_loans(session, users, items):
    """Returnables out on loan: the pop-up display at a client's showroom, due back in three
    days, and a booth-in-a-box two days overdue (the item, bin and Today pages show both)."""
    from .auth.models import User
    from .requests import fulfilment, handover, queries, review, submission

    staff, manager = users["staff"], users["manager"]
    rep2 = session.query(User).filter_by(email="rep2@example.com").one()
    today = date.today()
    for rep, sku, out, back, note, collected_by in (
        (users["rep"], "DISPLAY-POPUP", -4, 3, "Acme showroom week: our display in their lobby", ""),
        (rep2, "KIT-BOOTH", -6, -2, "Nimbus partner breakfast in Potsdam", "Kim from the Potsdam office"),
    ):
        loan = submission.submit(session, rep, [(items[sku], 1)], purpose="client_meeting",
                                 needed_by=today + timedelta(days=out), return_by=today + timedelta(days=back),
                                 today=today + timedelta(days=out - 3), note=note)
        review.approve(session, loan.id, manager)
        for bin, picks in fulfilment.pick_list(session, queries.get_request(session, loan.id)):
            fulfilment.pick(session, loan.id, bin, {line.id: quantity for line, quantity in picks}, staff)
        handover.hand_over(session, loan.id, staff, collected_by=collected_by)


def _seed_purchase_orders(session, users, bin_rows):
    """Three purchase orders: brochures for the big show arriving in ten days, USB drives that
    are late (receiving them fills the waiting backorder), and polos received last month."""
    from sqlalchemy import select

    from .events.models import Event
    from .purchasing import services as purchasing
    from .purchasing.models import PurchaseOrder

    manager, staff = users["manager"], users["staff"]
    today = date.today()
    show = session.scalar(select(Event).where(Event.cancelled.is_(False), Event.starts_on >= today)
                          .order_by(Event.starts_on).limit(1))

    def place(lines, expected_on, ordered_days_ago, note="", event_id=None):
        order = purchasing.create(session, manager, lines=lines, note=note, event_id=event_id)
        purchasing.mark_ordered(session, order.id, manager, expected_on, today=today - timedelta(days=ordered_days_ago))
        order = session.get(PurchaseOrder, order.id)
        placed = utcnow() - timedelta(days=ordered_days_ago, hours=3)
        order.created_at, order.ordered_at = placed - timedelta(hours=1), placed
        order.note = "\n".join(filter(None, [note, f"{placed:%Y-%m-%d} {manager.display_name}: ordered, "
                                                    f"expected {expected_on.isoformat()}."]))
        session.commit()
        return order

    place([("BRO-ATLAS-26", 2000, None), ("BRO-NIMBUS-26", 2000, None)], today + timedelta(days=10), 11,
          note="Brochures for the big show" + (f": {show.name}" if show else "") + ". Proof approved by Morgan.",
          event_id=show.id if show else None)
    place([("USB-32", 200, None)], today - timedelta(days=4), 30,
          note="USB drives with the product videos preloaded. Reps are waiting for 15 (backordered).")
    polos = place([("POLO-NAVY-M", 20, None), ("POLO-NAVY-L", 20, None), ("POLO-BLACK-M", 12, None)],
                  today - timedelta(days=26), 45, note="Top-up before the autumn events.")
    arrived = utcnow() - timedelta(days=25, hours=5)
    for line, code in zip(polos.lines, ("A-01-1", "A-01-1", "A-02-1")):
        receipt = purchasing.receive(session, polos.id, line.id, bin_rows[code], line.quantity, staff)
        receipt.movement.created_at = arrived
        session.commit()


def _seed_events(session, users, items, bin_rows):
    """Events and kits: a show last month with what came back and what was lost, a roadshow next
    week, the big trade show in five weeks with a standard kit reserved, a summit still to plan."""
    from .auth.models import User
    from .events import kits
    from .events import services as events
    from .requests import fulfilment, handover, queries, review, submission

    manager, staff, rep = users["manager"], users["staff"], users["rep"]
    rep2 = session.query(User).filter_by(email="rep2@example.com").one()
    today = date.today()

    def on(n):
        return today + timedelta(days=n)

    # Last month's partner day: banners and handouts went out; one banner came back, one was lost.
    past = events.create_event(session, manager, name="Autumn partner day", place="Congress Center, Leipzig",
                               starts_on=on(-24), ends_on=on(-23), ship_by=on(-26), return_by=on(-20), budget="300",
                               notes="Partner booth with two roll-ups; brochures and polos for the partner team.")
    went = submission.submit(session, rep, [(items["BANNER-ROLLUP"], 2), (items["BRO-COMPANY"], 120),
                                            (items["POLO-BLACK-L"], 4), (items["PEN-LOGO"], 150)],
                             purpose="trade_show", needed_by=past.ship_by, return_by=past.return_by,
                             event_id=past.id, today=on(-30), note="Partner day booth")
    review.approve(session, went.id, manager)
    for bin, picks in fulfilment.pick_list(session, queries.get_request(session, went.id)):
        fulfilment.pick(session, went.id, bin, {line.id: quantity for line, quantity in picks}, staff)
    handover.hand_over(session, went.id, staff)
    banner_line = next(line for line in went.lines if line.item.sku == "BANNER-ROLLUP")
    fulfilment.check_in(session, went.id, bin_rows["B-03-1"], {banner_line.id: {"returned": 1, "lost": 1}}, staff)

    roadshow = events.create_event(session, manager, name="Nimbus roadshow", place="Hotel am Markt, Berlin",
                                   starts_on=on(6), ends_on=on(7), ship_by=on(4), owner_id=rep2.id, budget="150",
                                   notes="Two customer breakfasts; Jordan runs it.")
    submission.submit(session, rep2, [(items["FLY-NIMBUS"], 150), (items["MUG-LOGO"], 24)], purpose="trade_show",
                      needed_by=roadshow.ship_by, event_id=roadshow.id, note="Handouts for the breakfasts")

    expo = events.create_event(session, manager, name="Expo Nord 2027", place="Messe Nord, Hall B, Hamburg",
                               starts_on=on(35), ends_on=on(37), ship_by=on(28), return_by=on(41), budget="2500",
                               notes="Biggest show of the year. Booth B-214, 6 x 4 m. Setup the day before.")
    standard = kits.create_kit(session, manager, name="Trade show standard kit",
                               description="One booth's worth: a roll-up, brochures and flyers for both products, "
                                           "10 polos for the booth team, giveaways.",
                               lines=[("BANNER-ROLLUP", 1), ("BRO-ATLAS-26", 200), ("BRO-NIMBUS-26", 200),
                                      ("FLY-ATLAS", 300), ("POLO-NAVY-M", 4), ("POLO-NAVY-L", 4),
                                      ("POLO-NAVY-XL", 2), ("PEN-LOGO", 100), ("STICKER-PACK", 50),
                                      ("TOTE-CANVAS", 20)])
    kits.create_kit(session, manager, name="Booth-in-a-box show",
                    description="The pre-assembled booth-in-a-box (its own QR label, booked by date) plus handouts.",
                    lines=[("KIT-BOOTH", 1), ("BRO-COMPANY", 100), ("PEN-LOGO", 100)])
    kits.reserve_kit(session, manager, expo.id, standard.id, 1, handoff="ship",
                     ship_to="Messe Nord, Hall B, Booth B-214\nHamburg")
    # Visitors' handouts: more Nimbus brochures than the shelf holds, so the rest waits as a
    # backorder and the Reorders page says when to order more from the printer.
    submission.submit(session, users["rep"], [(items["BRO-NIMBUS-26"], 2000), (items["FLY-NIMBUS"], 400)],
                      purpose="trade_show", needed_by=expo.ship_by, event_id=expo.id, allow_partial=True,
                      note="Visitor handouts for the Nimbus launch at the booth")

    events.create_event(session, manager, name="Developer summit", place="Online and Munich office",
                        starts_on=on(60), ends_on=on(61), ship_by=on(55), return_by=on(63),
                        notes="Stickers and USB drives; the booth-in-a-box for the Munich side.")

