"""The request lifecycle's table (inventory/requests/lifecycle.py) is what the rules do and what the
request page offers: every (status, step, person) is either allowed by the table and taken by
the rule, ending where the table says, or refused with the table's reason, changing nothing."""
from datetime import date, timedelta

import pytest

from inventory.errors import InvalidInput
from inventory.requests import fulfilment, handover, lifecycle, queries, review, submission
from inventory.requests.lifecycle import SAME, TRANSITIONS, Action, Status
from inventory.requests.models import CANCELLABLE, HOLDING, OPEN, STATUSES, Request
from tests.conftest import AuthActions

TODAY = date.today()
PEOPLE = ("requester", "other rep", "staff", "manager", "admin")

# Who may take each step from which statuses, as the rules and pages allowed before the table:
# written out again here so that a change to the table is a change to this test too.
MANAGERS, STOCKROOM = {"manager", "admin"}, {"staff", "manager", "admin"}
WHO_MAY = {
    Action.APPROVE: ({"submitted"}, MANAGERS),
    Action.CHANGE_QUANTITIES: ({"submitted"}, MANAGERS),
    Action.REJECT: ({"submitted", "approved"}, MANAGERS),
    Action.CANCEL: ({"submitted", "approved"}, MANAGERS | {"requester"}),
    Action.PICK: ({"approved", "picking"}, STOCKROOM),
    Action.RELEASE_UNPICKED: ({"approved", "picking"}, STOCKROOM),
    Action.PUT_BACK: ({"picking", "ready"}, STOCKROOM),
    Action.HAND_OVER: ({"ready"}, STOCKROOM),
    Action.UNDO_HAND_OVER: ({"handed_over"}, MANAGERS),
    Action.CHECK_IN: ({"handed_over"}, STOCKROOM),
}


@pytest.fixture
def people(make_user):
    return {"requester": make_user("rep"), "other rep": make_user("rep"), "staff": make_user("staff"),
            "manager": make_user("manager"), "admin": make_user("admin")}


@pytest.fixture
def stock(make_item, make_bin):
    """Plenty of a consumable and of a returnable in A-01, so that every request can be made whole."""
    return {"pens": make_item("PEN-1", on_hand=1000), "banner": make_item("BANNER-1", category="display",
                                                                          on_hand=500, returnable=True),
            "bin": make_bin("A-01")}


def line_of(request, sku):
    return next(line for line in request.lines if line.item.sku == sku)


def make_request(session, people, stock, status, *, returnables=True):
    """A request of the requester's (2 pens and, with `returnables`, a banner), brought to `status`
    through the rules."""
    manager, staff = people["manager"], people["staff"]
    lines = [(stock["pens"], 2)] + ([(stock["banner"], 1)] if returnables else [])
    request = submission.submit(session, people["requester"], lines, purpose="client_meeting", needed_by=TODAY,
                                return_by=TODAY + timedelta(days=3) if returnables else None)
    if status == Status.CANCELLED:
        review.cancel(session, request.id, people["requester"])
    elif status == Status.REJECTED:
        review.reject(session, request.id, manager, "No budget this quarter")
    elif status != Status.SUBMITTED:
        review.approve(session, request.id, manager)
        if status != Status.APPROVED:
            request = queries.get_request(session, request.id)
            pens = line_of(request, "PEN-1")
            picks = {pens.id: 1} if status == Status.PICKING else {line.id: line.to_pick for line in request.lines}
            fulfilment.pick(session, request.id, stock["bin"], picks, staff)
        if status in (Status.HANDED_OVER, Status.RETURNED):
            handover.hand_over(session, request.id, staff)
        if status == Status.RETURNED:
            request = queries.get_request(session, request.id)
            fulfilment.check_in(session, request.id, stock["bin"], {line_of(request, "BANNER-1").id: {"returned": 1}},
                                staff)
    session.expire_all()
    request = queries.get_request(session, request.id)
    assert request.status == status
    return request


def take(session, action, request, user, stock):
    """Take `action` on `request` as `user` through its rule, with input the rule accepts."""
    first = request.lines[0]
    if action == Action.APPROVE:
        return review.approve(session, request.id, user)
    if action == Action.CHANGE_QUANTITIES:
        return review.change_quantities(session, request.id, {line_of(request, "PEN-1").id: 1}, user)
    if action == Action.REJECT:
        return review.reject(session, request.id, user, "No budget this quarter")
    if action == Action.CANCEL:
        return review.cancel(session, request.id, user)
    if action == Action.PICK:
        picks = {line.id: line.to_pick for line in request.lines if line.to_pick} or {first.id: 1}
        return fulfilment.pick(session, request.id, stock["bin"], picks, user)
    if action == Action.RELEASE_UNPICKED:
        return fulfilment.release_unpicked(session, request.id, {line.id for line in request.lines}, user)
    if action == Action.PUT_BACK:
        line = next((line for line in request.lines if line.picked), first)
        return fulfilment.put_back(session, request.id, line.id, stock["bin"], 1, user)
    if action == Action.HAND_OVER:
        return handover.hand_over(session, request.id, user)
    if action == Action.UNDO_HAND_OVER:
        return handover.undo_hand_over(session, request.id, user, "Handed to the wrong rep")
    if action == Action.CHECK_IN:
        outcomes = {line.id: {"returned": line.issued or 1} for line in request.lines if line.item.returnable}
        return fulfilment.check_in(session, request.id, stock["bin"], outcomes, user)
    raise AssertionError(f"no way to take {action}")


def said(action, request, refusal):
    """What the rule says for the table's refusal: its message (an undo that is not allowed now
    names the hand-over first, as the page and the API have always said it)."""
    if action == Action.UNDO_HAND_OVER and refusal.status == 409:  # not its status: UndoRefused
        return f"The hand-over of {request.number} cannot be undone: {refusal.message}"
    return refusal.message


def test_the_statuses_are_the_strings_stored_and_the_groups_come_from_them():
    assert [status.value for status in Status] == list(STATUSES) == [
        "submitted", "approved", "picking", "ready", "handed_over", "returned", "cancelled", "rejected"]
    assert STATUSES["handed_over"] == Status.HANDED_OVER.label == "Handed over"
    assert Status.READY == "ready" and "ready" in OPEN and f"{Status.READY}" == "ready"
    assert OPEN == ("submitted", "approved", "picking", "ready")
    assert HOLDING == (*OPEN, "handed_over")
    assert CANCELLABLE == ("submitted", "approved") == TRANSITIONS[Action.CANCEL].source
    assert set(TRANSITIONS) == set(Action)
    for transition in TRANSITIONS.values():
        assert transition.source and all(to == SAME or to in Status for to in transition.to)


@pytest.mark.parametrize("status", list(Status))
def test_every_step_in_every_status_for_everyone_is_taken_or_refused_as_the_table_says(
        session, people, stock, status):
    request = make_request(session, people, stock, status)
    for action in Action:
        for who in PEOPLE:
            user = people[who]
            expected = lifecycle.refusal(request, action, user)
            case = f"{action} on a {status} request by the {who}"
            statuses, people_who_may = WHO_MAY[action]
            assert (expected is None) == (status in statuses and who in people_who_may), case
            if expected is None:
                assert action in lifecycle.allowed_actions(request, user)
                take(session, action, request, user, stock)
                session.expire_all()
                after = session.get(Request, request.id).status
                assert lifecycle.may_end_in(action, status, after), f"{case} ended {after}"
                request = make_request(session, people, stock, status)  # a fresh one for the next person
            else:
                with pytest.raises(type(expected)) as refused:
                    take(session, action, request, user, stock)
                assert refused.value.message == said(action, request, expected), case
                assert action not in lifecycle.allowed_actions(request, user)
                session.expire_all()
                assert session.get(Request, request.id).status == status, f"{case} changed the status"
                request = queries.get_request(session, request.id)


def test_the_table_says_what_the_rules_said_before_it():
    """A few cells spelled out, in the words the rules have always used."""
    class Someone:
        def __init__(self, role, id=1):
            self.role, self.id = role, id

    class Shown:
        number, requester_id, lines = "R-00007", 1, []

        def __init__(self, status):
            self.status = status

    rep, other, staff, manager = Someone("rep"), Someone("rep", 2), Someone("staff", 3), Someone("manager", 4)
    allowed = lifecycle.allowed_actions
    assert allowed(Shown("submitted"), rep) == (Action.CANCEL,)
    assert allowed(Shown("submitted"), other) == ()
    assert allowed(Shown("submitted"), manager) == (Action.APPROVE, Action.CHANGE_QUANTITIES, Action.REJECT,
                                                    Action.CANCEL)
    assert allowed(Shown("approved"), staff) == (Action.PICK, Action.RELEASE_UNPICKED)
    assert allowed(Shown("ready"), staff) == (Action.PUT_BACK, Action.HAND_OVER)
    assert allowed(Shown("handed_over"), manager) == (Action.UNDO_HAND_OVER,)  # no returnables: no check-in
    assert allowed(Shown("returned"), manager) == allowed(Shown("cancelled"), manager) == ()
    said = [lifecycle.refusal(Shown("picking"), action, who).message
            for action, who in [(Action.APPROVE, rep), (Action.CANCEL, other), (Action.CANCEL, rep),
                                (Action.HAND_OVER, rep), (Action.HAND_OVER, staff), (Action.UNDO_HAND_OVER, staff),
                                (Action.UNDO_HAND_OVER, manager)]]
    assert said == ["Only a marketing manager can do this.",
                    "You can only change your own requests.",
                    "Request R-00007 is picking; it cannot be cancelled.",
                    "Only the stockroom can do this.",
                    "Request R-00007 is picking; it cannot be handed over.",
                    "Only a marketing manager can undo a hand-over.",
                    "R-00007 is picking, not handed over."]
    assert lifecycle.refusal(Shown("submitted"), Action.CANCEL, other).message == "You can only change your own requests."
    assert lifecycle.refusal(Shown("ready"), Action.HAND_OVER, rep).status == 403
    assert lifecycle.refusal(Shown("ready"), Action.PICK, staff).status == 409


def test_check_in_needs_returnables(session, people, stock):
    request = make_request(session, people, stock, Status.HANDED_OVER, returnables=False)
    assert Action.CHECK_IN not in lifecycle.allowed_actions(request, people["staff"])
    with pytest.raises(InvalidInput, match="This request has nothing to return."):
        fulfilment.check_in(session, request.id, stock["bin"], {}, people["staff"])


# The request page: the buttons (or links) of each step, as they are in templates/requests/show.html.
# Releasing what could not be found is offered on the pick page, not here.
def markers(request_id):
    base = f"/requests/{request_id}"
    return {Action.APPROVE: f'formaction="{base}/approve"', Action.CHANGE_QUANTITIES: f'formaction="{base}/quantities"',
            Action.REJECT: f'formaction="{base}/reject"', Action.CANCEL: f'formaction="{base}/cancel"',
            Action.PICK: f'href="{base}/pick"', Action.PUT_BACK: f'action="{base}/put-back"',
            Action.HAND_OVER: f'href="{base}/hand-over"', Action.CHECK_IN: f'href="{base}/check-in"',
            Action.UNDO_HAND_OVER: f'action="{base}/undo-hand-over"'}


@pytest.mark.parametrize("status, who", [
    (Status.SUBMITTED, "requester"), (Status.SUBMITTED, "manager"), (Status.SUBMITTED, "staff"),
    (Status.APPROVED, "requester"), (Status.APPROVED, "staff"), (Status.APPROVED, "admin"),
    (Status.PICKING, "staff"), (Status.PICKING, "manager"), (Status.READY, "staff"), (Status.READY, "requester"),
    (Status.HANDED_OVER, "staff"), (Status.HANDED_OVER, "manager"), (Status.HANDED_OVER, "requester"),
    (Status.RETURNED, "manager"), (Status.CANCELLED, "requester"), (Status.REJECTED, "manager"),
])
def test_the_request_page_shows_exactly_the_steps_the_table_allows(client, session, people, stock, status, who):
    request = make_request(session, people, stock, status)
    user = people[who]
    assert AuthActions(client).login(user).status_code == 302
    page = client.get(f"/requests/{request.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    shown = {action for action, marker in markers(request.id).items() if marker in html}
    allowed = set(lifecycle.allowed_actions(request, user)) - {Action.RELEASE_UNPICKED}
    assert shown == allowed, f"a {status} request seen by the {who}"
