"""Carriers and tracking numbers of a shipped hand-over: the carriers the page offers, each with
its public tracking page, and the checks on what the stockroom types (handover.py records them;
the shipped e-mail, the request page and the API link to the tracking page).
"""
from __future__ import annotations

import re
from urllib.parse import quote

from ..errors import InvalidInput
from ..text import limited

MAX_CARRIER = 40         # Request.carrier
MIN_TRACKING, MAX_TRACKING = 4, 40
OTHER_CARRIER = "Other"

# The carriers the page offers, each with its public tracking page ({} is the tracking number).
CARRIERS = {
    "UPS": "https://www.ups.com/track?tracknum={}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={}",
    "DHL": "https://www.dhl.com/global-en/home/tracking.html?tracking-id={}",
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "DPD": "https://tracking.dpd.de/status/en_US/parcel/{}",
    "GLS": "https://gls-group.com/GROUP/en/parcel-tracking?match={}",
    "PostNL": "https://jouw.postnl.nl/track-and-trace/{}",
    "Royal Mail": "https://www.royalmail.com/track-your-item#/tracking-results/{}",
    "La Poste/Colissimo": "https://www.laposte.fr/outils/suivre-vos-envois?code={}",
}
_KNOWN = {name.lower(): name for name in CARRIERS}
_TRACKING = re.compile(r"[A-Za-z0-9 -]+", re.ASCII)


def normal_carrier(carrier: str | None) -> str:
    """A known carrier in its own spelling ("ups" -> "UPS"), another carrier's name as typed
    (1-40 characters), or InvalidInput about "carrier"."""
    carrier = limited(carrier, "The carrier", MAX_CARRIER, about="carrier")
    if not carrier:
        raise InvalidInput("Choose the carrier.", about="carrier")
    if carrier.lower() == OTHER_CARRIER.lower():
        raise InvalidInput("Type the carrier's name.", about="carrier")
    return _KNOWN.get(carrier.lower(), carrier)


def normal_tracking(tracking: str | None) -> str:
    """A tracking number in upper case without spaces: 4-40 letters, digits and dashes as typed
    (spaces allowed), or InvalidInput about "tracking"."""
    if tracking is not None and not isinstance(tracking, str):
        raise InvalidInput("The tracking number must be text.", about="tracking")
    typed = (tracking or "").strip()
    if not typed:
        raise InvalidInput("Enter the tracking number.", about="tracking")
    if not _TRACKING.fullmatch(typed):
        raise InvalidInput("A tracking number has only letters, digits, spaces and dashes.", about="tracking")
    number = typed.replace(" ", "").upper()
    if not MIN_TRACKING <= len(number) <= MAX_TRACKING:
        raise InvalidInput(f"A tracking number has {MIN_TRACKING} to {MAX_TRACKING} characters "
                           f"(not counting spaces); this one has {len(number)}.", about="tracking")
    return number


def tracking_url(carrier: str | None, tracking: str | None) -> str | None:
    """The carrier's public tracking page for this number, or None (another carrier, no number)."""
    pattern = CARRIERS.get(carrier or "")
    return pattern.format(quote(tracking, safe="")) if pattern and tracking else None
