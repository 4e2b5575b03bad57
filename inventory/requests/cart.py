"""The request being put together: SKUs and quantities kept in the user's session until they
submit it (a request only exists, and only holds stock, once submitted)."""
from flask import session

KEY = "request_cart"
MAX_LINES = 60


def lines():
    """{sku: quantity} in the order they were added (kept as pairs: the session sorts dict keys)."""
    return {sku: quantity for sku, quantity in session.get(KEY, [])}


def _store(cart):
    session[KEY] = [[sku, quantity] for sku, quantity in cart.items() if quantity > 0]


def add(quantities):
    """Add {sku: quantity} to the cart; returns how many units were added."""
    cart = lines()
    added = 0
    for sku, quantity in quantities.items():
        if quantity > 0:
            cart[sku] = cart.get(sku, 0) + quantity
            added += quantity
    _store(cart)
    return added


def replace(quantities):
    _store(quantities)


def clear():
    session.pop(KEY, None)
    session.pop(EVENT_KEY, None)


EVENT_KEY = "request_event"


def remember_event(event_id):
    """The event the rep is asking for (from an event page), kept until the request is sent."""
    session[EVENT_KEY] = event_id


def event():
    return session.get(EVENT_KEY)


def count():
    return sum(lines().values())
