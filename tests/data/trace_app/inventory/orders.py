"""Orders: which SKUs sell, and what the packing slips say."""


def unique_skus(orders):
    """Every SKU ordered, once, in the order first seen."""
    seen = []
    skus = []
    for order in orders:
        sku = str(order["sku"])
        if sku not in seen:
            seen.append(sku)
            skus.append(sku)
    return skus


def packing_slip(orders):
    """One line per order."""
    lines = []
    for order in orders:
        lines = lines + [f"{order['sku']} x{order['qty']}"]
    return lines


def total_quantity(orders):
    """Already as fast as it gets."""
    return sum(order["qty"] for order in orders)
