"""A new master retires the old print: the printed stock gets its last day of use, and the new
print run becomes an item of its own that replaces it (Item.replaced_by), with the new master as
its first file and a draft purchase order for the run from the same supplier, the reorder
quantity filled in. One unit of work: the successor, the link, the file and the order, or none."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth.models import User
from ..catalog import services as catalog
from ..catalog.models import Item, normalize_sku
from ..database import unit_of_work
from ..errors import DuplicateCode, InvalidInput
from ..purchasing import services as purchasing
from ..purchasing.models import PurchaseOrder
from . import services as files
from .models import MASTER


@unit_of_work
def retire_print(session: Session, item: Item, last_day: date | None) -> Item:
    """The printed stock of `item` may be used until `last_day` (today when None), no longer."""
    return catalog.update_item(session, item, do_not_use_after=last_day or date.today())


def suggested_sku(session: Session, item: Item) -> str:
    """The old SKU with the next free -V<n>: BROCHURE-2026 → BROCHURE-2026-V2, and -V2 → -V3."""
    base, n = item.sku, 2
    found = re.fullmatch(r"(.+)-V(\d+)", item.sku)
    if found:
        base, n = found.group(1), int(found.group(2)) + 1
    taken = set(session.scalars(select(Item.sku).where(Item.sku.like(f"{base}-V%"))))
    while f"{base}-V{n}" in taken:
        n += 1
    return f"{base}-V{n}"[:40]


def suggested_name(item: Item, sku: str) -> str:
    version = sku.rsplit("-V", 1)[-1] if "-V" in sku else ""
    name = re.sub(r"\s*\(v\d+\)$", "", item.product.name)
    return f"{name} (v{version})"[:120] if version.isdigit() else name


@dataclass(frozen=True)
class Reprint:
    successor: Item
    order: PurchaseOrder | None


@unit_of_work
def new_print_run(session: Session, item: Item, user: User, *, sku: str, name: str, order: bool = True,
                  quantity: int | None = None) -> Reprint:
    """The successor of `item`: a new print piece `sku` named `name` with the old one's settings
    (supplier, cost, lead time, reorder point and quantity, unit), named as the old one's
    successor, holding its current master, and (with `order`) a draft purchase order of
    `quantity` (default: the reorder quantity) from the supplier."""
    if item.replaced_by_id is not None:
        raise InvalidInput(f"{item.sku} already has its successor, {item.replaced_by.sku if item.replaced_by else ''}: "
                           "upload the new master there.")
    if order:
        quantity = quantity if quantity is not None else item.reorder_quantity
        if not quantity or quantity < 1:
            raise InvalidInput("Say how many to print, or leave out the purchase order.", about=(None, "quantity"))
    try:
        product = catalog.create_product(
            session, name=name, category=item.product.category, sku=normalize_sku(sku),
            description=item.product.description, keywords=item.product.keywords,
            unit=item.unit, supplier=item.supplier, unit_cost=item.unit_cost, lead_time_days=item.lead_time_days,
            reorder_point=item.reorder_point, reorder_quantity=item.reorder_quantity, returnable=item.returnable)
    except InvalidInput as error:
        about = error.about if isinstance(error.about, tuple) else (None, "sku" if "SKU" in error.message else "name")
        raise InvalidInput(error.message, about=about) from None
    except DuplicateCode as error:
        raise InvalidInput(error.message, about=(None, "sku")) from None
    successor = product.items[0]
    catalog.update_item(session, item, replaced_by=successor.sku)
    master = files.current(session, item).get(MASTER)
    if master is not None:
        files.copy_to(session, master, successor, user, note=f"The master of {item.sku}'s new print run.")
    raised = None
    if order:
        raised = purchasing.create(session, user, lines=[(successor.sku, quantity, None)], supplier=item.supplier,
                                   note=f"New print run of {successor.name}: replaces {item.sku}.")
    return Reprint(successor, raised)
