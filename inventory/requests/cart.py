"""The request being put together: SKUs and quantities kept in the user's session until they
submit it (a request only exists, and only holds stock, once submitted)."""
from flask import session

KEY = "request_cart"
MAX_LINES = 60


def lines():
    """{sku: quantity} in the order they were added."""
    return dict(session.get(KEY, {}))


def add(quantities):
    """Add {sku: quantity} (positive quantities only) to the cart; returns how many units were added."""
    cart = lines()
    added = 0
    for sku, quantity in quantities.items():
        if quantity > 0:
            cart[sku] = cart.get(sku, 0) + quantity
            added += quantity
    session[KEY] = dict(list(cart.items())[:MAX_LINES])
    return added


def replace(quantities):
    session[KEY] = {sku: q for sku, q in quantities.items() if q > 0}


def clear():
    session.pop(KEY, None)


def count():
    return sum(lines().values())
