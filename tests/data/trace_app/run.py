"""The workload: a week of orders through the inventory app; prints a digest of every answer."""

import hashlib
import random

from inventory.catalog import Catalog, Product
from inventory.orders import packing_slip, total_quantity, unique_skus


def make_catalog(rng, size):
    categories = rng.choices(range(size // 2), k=size)
    prices = rng.choices(range(100, 10_000), k=size)
    stocks = rng.choices(range(50), k=size)
    return Catalog(
        Product(f"SKU-{i:05d}", f"cat-{category}", price, stock)
        for i, category, price, stock in zip(range(size), categories, prices, stocks)
    )


def make_orders(rng, count, skus):
    chosen = rng.choices(range(skus), k=count)
    quantities = rng.choices(range(1, 5), k=count)
    return [{"sku": f"SKU-{sku:05d}", "qty": qty} for sku, qty in zip(chosen, quantities)]


def main():
    rng = random.Random(2026)
    digest = hashlib.sha256()
    catalog = make_catalog(rng, 6_000)
    for day in range(7):
        orders = make_orders(rng, 6_000, 8_000)
        skus = unique_skus(orders)
        slip = packing_slip(orders)
        digest.update("\n".join(skus + slip).encode())
        print(f"day {day}: {len(orders)} orders, {len(skus)} skus, {total_quantity(orders)} items")
    categories = catalog.categories()
    restock = catalog.restock_lines(5)
    digest.update("\n".join(categories + restock).encode())
    print(f"{len(categories)} categories, {len(restock)} to restock, "
          f"first price {Catalog.price_label(catalog.products[0].price)}")
    print(f"digest {digest.hexdigest()}")


if __name__ == "__main__":
    main()
