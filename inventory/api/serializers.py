"""JSON shapes of the API's resources. Amounts are strings with two decimals, in the currency
named next to them (the CURRENCY setting)."""
from ..core.money import currency


def item_json(item, level):
    return {
        "sku": item.sku,
        "name": item.name,
        "product": item.product.name,
        "product_id": item.product_id,
        "size": item.size,
        "category": item.category,
        "unit": item.unit,
        "supplier": item.supplier,
        "unit_cost": str(item.unit_cost),
        "currency": currency(),
        "lead_time_days": item.lead_time_days,
        "reorder_point": item.reorder_point,
        "reorder_quantity": item.reorder_quantity,
        "returnable": item.returnable,
        "do_not_use_after": item.do_not_use_after.isoformat() if item.do_not_use_after else None,
        "replaced_by": item.replaced_by.sku if item.replaced_by_id is not None else None,
        "archived": item.archived,
        "on_hand": level.on_hand,
        "reserved": level.reserved,
        "available": level.available,
    }


def bin_json(bin):
    return {"code": bin.code, "name": bin.name, "zone": bin.zone, "archived": bin.archived}


def movement_json(movement):
    return {
        "id": movement.id,
        "kind": movement.kind,
        "sku": movement.item.sku,
        "from_bin": movement.from_bin.code if movement.from_bin else None,
        "to_bin": movement.to_bin.code if movement.to_bin else None,
        "quantity": movement.quantity,
        "counted": movement.counted,
        # What one unit cost when it moved: a PO receipt's line cost, else the item's cost then.
        "unit_cost": str(movement.unit_cost),
        "reason": movement.reason,
        "reference": movement.reference,
        "user": movement.user.email,
        "created_at": movement.created_at.isoformat() + "Z",
    }
