"""The request pages through the test client: rep, manager and staff."""
from datetime import date, timedelta

from sqlalchemy import func, select

from inventory.requests.models import Request
from inventory.stock import queries as stock_queries
from inventory.stock import services as stock

SOON = (date.today() + timedelta(days=4)).isoformat()


def details(**overrides):
    data = {"purpose": "client_meeting", "needed_by": SOON, "handoff": "pickup", "note": "Acme visit"}
    data.update(overrides)
    return data


def test_rep_reserves_25_polos_as_a_size_breakdown(client, login, make_product, session):
    polo = make_product(sizes={"S": 5, "M": 20, "L": 10, "XL": 4})
    rep = login("rep")
    page = client.get(f"/catalog/p/{polo.id}").get_data(as_text=True)
    assert 'name="qty-POLO-NAVY-M"' in page and "20 available" in page
    response = client.post("/request/add", data={"qty-POLO-NAVY-S": "3", "qty-POLO-NAVY-M": "12",
                                                 "qty-POLO-NAVY-L": "8", "qty-POLO-NAVY-XL": "2",
                                                 "back": f"/catalog/p/{polo.id}", "go": "1"})
    assert response.headers["Location"] == "/request"
    cart = client.get("/request").get_data(as_text=True)
    assert 'value="12"' in cart and "Submit and reserve" in cart
    done = client.post("/request", data=details(), follow_redirects=True)
    html = done.get_data(as_text=True)
    assert "Submitted. Held for you now" in html and "12 × Navy polo — M" in html
    request = session.scalar(select(Request))
    assert request.requester_id == rep.id and sum(line.reserved for line in request.lines) == 25
    assert "R-" in client.get("/requests/mine").get_data(as_text=True)
    assert client.get("/request").get_data(as_text=True).count("Submit and reserve") == 0  # cart emptied


def test_short_stock_shows_what_is_available_and_offers_a_backorder(client, login, make_item, session):
    make_item("MUG-1", name="Mug", on_hand=4)
    login("rep")
    client.post("/request/add", data={"qty-MUG-1": "6"})
    refused = client.post("/request", data=details())
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "Nothing is held yet" in html and "4 free for" in html and "6 asked" in html
    assert "Take the 4 free" in html and "Backorder the other 2" in html
    assert session.scalar(select(func.count(Request.id))) == 0
    client.post("/request", data=details(allow_partial="y"))
    line = session.scalar(select(Request)).lines[0]
    assert (line.reserved, line.backordered) == (4, 2)


def test_bad_request_input_is_refused_whole(client, login, make_item, session):
    make_item("PEN-1", on_hand=10)
    login("rep")
    client.post("/request/add", data={"qty-PEN-1": "2"})
    past = (date.today() - timedelta(days=1)).isoformat()
    assert "in the past" in client.post("/request", data=details(needed_by=past)).get_data(as_text=True)
    assert "address" in client.post("/request", data=details(handoff="ship")).get_data(as_text=True)
    assert client.post("/request/add", data={"qty-PEN-1": "-3"}, follow_redirects=True).status_code == 200
    assert "whole numbers" in client.post("/request/add", data={"qty-PEN-1": "x"},
                                          follow_redirects=True).get_data(as_text=True)
    assert "No item has the SKU" in client.post("/request/add", data={"qty-NOPE": "1"},
                                                follow_redirects=True).get_data(as_text=True)
    assert session.scalar(select(func.count(Request.id))) == 0


def _submit(client, sku="PEN-1", quantity="4", **extra):
    client.post("/request/add", data={f"qty-{sku}": quantity})
    client.post("/request", data=details(**extra))


def test_manager_queue_approve_reject_and_change(client, login, make_item, session, make_user):
    make_item("PEN-1", on_hand=10, bin="A-01")
    login("rep")
    _submit(client)
    _submit(client, quantity="2", needed_by=date.today().isoformat())
    client.post("/logout")
    login("manager")
    queue = client.get("/requests").get_data(as_text=True)
    assert queue.count('class="row-link"') == 2 and "Rush" in queue
    first, second = session.scalars(select(Request).order_by(Request.id)).all()
    assert queue.index(second.number) < queue.index(first.number)  # soonest needed first
    client.post(f"/requests/{first.id}/quantities", data={f"qty-{first.lines[0].id}": "6"})
    client.post(f"/requests/{first.id}/approve")
    assert "Reason" in client.get(f"/requests/{second.id}").get_data(as_text=True)
    no_reason = client.post(f"/requests/{second.id}/reject", data={"reason": ""}, follow_redirects=True)
    assert "Say why" in no_reason.get_data(as_text=True)
    client.post(f"/requests/{second.id}/reject", data={"reason": "Use the webinar flyer"})
    session.expire_all()
    assert (first.status, first.lines[0].reserved, second.status) == ("approved", 6, "rejected")
    assert stock.availability(session, [first.lines[0].item_id])[first.lines[0].item_id].available == 4


def test_reps_cannot_run_the_queue_or_see_others_requests(client, login, make_item, session):
    make_item("PEN-1", on_hand=10)
    login("rep")
    _submit(client)
    request = session.scalar(select(Request))
    client.post("/logout")
    login("rep")
    assert client.get(f"/requests/{request.id}").status_code == 403
    assert client.post(f"/requests/{request.id}/cancel").status_code == 403
    assert client.post(f"/requests/{request.id}/approve").status_code == 403
    assert client.get("/requests").status_code == 403
    assert client.get("/requests/picking").status_code == 403
    session.expire_all()
    assert request.status == "submitted"


def test_rep_cancels_own_request(client, login, make_item, session):
    make_item("PEN-1", on_hand=10)
    login("rep")
    _submit(client)
    request = session.scalar(select(Request))
    client.post(f"/requests/{request.id}/cancel")
    session.expire_all()
    assert request.status == "cancelled" and request.lines[0].reserved == 0


def test_staff_picks_by_bin_hands_over_and_checks_in(client, login, auth_client, make_item, make_bin, session):
    pens = make_item("PEN-1", on_hand=3, bin="A-01")
    stock.receive(session, pens, make_bin("A-02"), 5, login("staff"))
    client.post("/logout")
    make_item("BANNER-1", category="display", on_hand=1, bin="B-01", returnable=True)
    rep = login("rep")
    client.post("/request/add", data={"qty-PEN-1": "6", "qty-BANNER-1": "1"})
    client.post("/request", data=details(return_by=(date.today() + timedelta(days=9)).isoformat()))
    request = session.scalar(select(Request))
    client.post("/logout")
    login("manager")
    client.post(f"/requests/{request.id}/approve")
    client.post("/logout")
    login("staff")
    assert request.number in client.get("/requests/picking").get_data(as_text=True)
    plan = client.get(f"/requests/{request.id}/pick").get_data(as_text=True)
    assert plan.index("A-01") < plan.index("A-02") < plan.index("B-01")
    assert client.post(f"/requests/{request.id}/pick", data={"bin": "a-01"}).headers["Location"].endswith(
        f"/requests/{request.id}/pick/A-01")
    pen_line, banner_line = request.lines
    bad = client.post(f"/requests/{request.id}/pick/A-01", data={f"pick-{pen_line.id}": "9"})
    assert bad.status_code == 400 and "only 6 left to pick" in bad.get_data(as_text=True)
    client.post(f"/requests/{request.id}/pick/A-01", data={f"pick-{pen_line.id}": "3"})
    client.post(f"/requests/{request.id}/pick/A-02", data={f"pick-{pen_line.id}": "3"})
    client.post(f"/requests/{request.id}/pick/B-01", data={f"pick-{banner_line.id}": "1"})
    session.expire_all()
    assert request.status == "ready"
    client.post("/logout")
    auth_client.login(rep)
    assert "Ready" in client.get("/requests/mine").get_data(as_text=True)
    client.post("/logout")
    login("staff")
    client.post(f"/requests/{request.id}/hand-over", data={"collected_by": "Dana Rep"})
    bad = client.post(f"/requests/{request.id}/check-in", data={f"returned-{banner_line.id}": "0", "bin": "B-01"})
    assert "add up to 0" in bad.get_data(as_text=True)
    client.post(f"/requests/{request.id}/check-in", data={f"returned-{banner_line.id}": "1", "bin": "B-01"})
    session.expire_all()
    assert request.status == "returned"
    assert stock_queries.level(session, banner_line.item, make_bin("B-01")) == 1
    steps = [step.action for step in request.steps]
    assert steps[:2] == ["submitted", "approved"] and steps[-2:] == ["handed_over", "returned"]
    assert stock.check_ledger(session) == []


def test_staff_put_picked_stock_back_from_the_request_page(client, login, make_item, make_bin, session, make_user):
    from inventory.requests import fulfilment, review, submission

    pens = make_item("PEN-1", on_hand=5, bin="A-01")
    make_bin("A-02")
    made = submission.submit(session, make_user("rep"), [(pens, 2)], purpose="other",
                             needed_by=date.today() + timedelta(days=2))
    review.approve(session, made.id, make_user("manager"))
    fulfilment.pick(session, made.id, make_bin("A-01"), {made.lines[0].id: 2}, make_user("staff"))
    login("staff")
    assert "Put picked stock back" in client.get(f"/requests/{made.id}").get_data(as_text=True)
    done = client.post(f"/requests/{made.id}/put-back", data={"line": made.lines[0].id, "quantity": "2", "bin": "a-02"},
                       follow_redirects=True)
    assert "Put back into A-02" in done.get_data(as_text=True)
    refused = client.post(f"/requests/{made.id}/put-back", data={"line": made.lines[0].id, "quantity": "x",
                                                                 "bin": "A-02"}, follow_redirects=True)
    assert "whole number" in refused.get_data(as_text=True)
    session.expire_all()
    assert (made.status, made.lines[0].picked) == ("picking", 0)


def test_a_rep_links_a_request_to_an_upcoming_event(client, login, make_item, session, make_user):
    from inventory.events.models import Event

    make_item("PEN-1", on_hand=10)
    show = Event(name="Expo Nord", place="Hamburg", starts_on=date.today() + timedelta(days=20),
                 ends_on=date.today() + timedelta(days=22), ship_by=date.today() + timedelta(days=17))
    session.add(show)
    session.commit()
    login("rep")
    client.post("/request/add", data={"qty-PEN-1": "3"})
    client.get(f"/request?event={show.id}")  # from the event page's link
    page = client.get("/request").get_data(as_text=True)  # later, from the navigation
    assert f'<option selected value="{show.id}">Expo Nord' in page
    client.post("/request", data=details(event_id=str(show.id)))
    made = session.scalar(select(Request))
    assert made.event_id == show.id
    assert "Expo Nord" in client.get(f"/events/{show.id}").get_data(as_text=True)


def test_a_request_refuses_more_different_items_than_it_holds_and_keeps_what_it_has(client, login, make_item,
                                                                                     monkeypatch):
    from inventory.requests import drafts

    monkeypatch.setattr(drafts, "MAX_LINES", 2)
    for sku in ("PEN-1", "PEN-2", "PEN-3"):
        make_item(sku, on_hand=5)
    login("rep")
    client.post("/request/add", data={"qty-PEN-1": "1", "qty-PEN-2": "1"})
    refused = client.post("/request/add", data={"qty-PEN-3": "1"}, follow_redirects=True)
    assert "at most 2 different items" in refused.get_data(as_text=True)
    page = client.get("/request").get_data(as_text=True)
    assert 'name="qty-PEN-1"' in page and 'name="qty-PEN-2"' in page and 'name="qty-PEN-3"' not in page


def test_a_request_past_its_needed_by_date_is_flagged_not_called_rush(client, login, make_item, make_user, session):
    from inventory.requests import submission

    today = date.today()
    item = make_item("MUG-1", name="Mug", on_hand=4)
    rep = make_user("rep")
    late = submission.submit(session, rep, [(item, 2)], purpose="client_meeting", needed_by=today - timedelta(days=3),
                             today=today - timedelta(days=10))
    rush = submission.submit(session, rep, [(item, 1)], purpose="client_meeting", needed_by=today + timedelta(days=1))
    login("manager")
    queue = client.get("/requests").get_data(as_text=True)
    late_row = queue[queue.index(late.number):queue.index("</li>", queue.index(late.number))]
    rush_row = queue[queue.index(rush.number):queue.index("</li>", queue.index(rush.number))]
    assert "Needed-by passed" in late_row and "Rush" not in late_row
    assert "Rush" in rush_row and "Needed-by passed" not in rush_row
    page = client.get(f"/requests/{late.id}").get_data(as_text=True)
    assert "The needed-by date has passed and this request still holds stock: cancel it" in page


def test_my_requests_lists_only_my_own_newest_first_with_their_lines(client, login, make_item, make_user, session):
    """My requests reads light rows (queries.requests_of_page): the same requests, in the same
    order and pages, as the ORM listing the API uses."""
    from inventory.requests import queries, submission

    items = [make_item(f"PEN-{n}", name=f"Pen {n}", on_hand=10) for n in range(5)]
    rep = login("rep")
    other = make_user("rep")
    mine = [submission.submit(session, rep, [(items[n % 5], 1)], purpose="client_meeting",
                              needed_by=date.today() + timedelta(days=4)) for n in range(3)]
    mine.append(submission.submit(session, rep, [(item, 2) for item in items], purpose="trade_show",
                                  needed_by=date.today() + timedelta(days=9)))
    mine.append(submission.submit(session, rep, [(items[0], 15)], purpose="client_meeting", allow_partial=True,
                                  needed_by=date.today() + timedelta(days=5)))
    theirs = submission.submit(session, other, [(items[1], 1)], purpose="client_meeting",
                               needed_by=date.today() + timedelta(days=4))
    html = client.get("/requests/mine").get_data(as_text=True)
    numbers = [r.number for r in reversed(mine)]
    assert [html.index(n) for n in numbers] == sorted(html.index(n) for n in numbers)  # newest first
    assert theirs.number not in html
    assert "+1 more" in html and "backordered</mark>" in html and "2 × Pen 0" in html
    for page in (1, 2, 3, 4):
        light = queries.requests_of_page(session, rep, page=page, per_page=2)
        orm = queries.requests_of(session, rep, page=page, per_page=2)
        assert (light.total, [(r.number, r.status_label, [(ln.quantity, ln.item.name) for ln in r.lines])
                              for r in light.rows]) == \
               (orm.total, [(r.number, r.status_label, [(ln.quantity, ln.item.name) for ln in r.lines])
                            for r in orm.rows])
