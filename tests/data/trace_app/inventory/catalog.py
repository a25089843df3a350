"""Products and the questions a shop asks about them."""


class Product:
    def __init__(self, sku, category, price, stock):
        self.sku = sku
        self.category = category
        self.price = price
        self.stock = stock


class Catalog:
    def __init__(self, products):
        self.products = list(products)

    def categories(self):
        """Each category once, in the order first seen."""
        seen = []
        ordered = []
        for product in self.products:
            name = str(product.category)
            if name not in seen:
                seen.append(name)
                ordered.append(name)
        return ordered

    def restock_lines(self, threshold):
        """One line per product whose stock is at or under `threshold`."""
        lines = []
        for product in self.products:
            if product.stock <= threshold:
                lines = lines + [f"{product.sku}: {product.stock} left"]
        return lines

    @staticmethod
    def price_label(cents):
        return f"{cents // 100}.{cents % 100:02d}"
