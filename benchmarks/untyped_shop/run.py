from shop import Catalog, common, merge, reachable, unique_skus, vowels

skus = [f"sku{i % 1500}" for i in range(6000)]
left = [f"t{i}" for i in range(3000)]
right = [f"t{i}" for i in range(1500, 4500)]
text = "the quick brown fox jumps over the lazy dog " * 2000
reports = [[f"r{j}" for j in range(50)] for _ in range(600)]
graph = {f"n{i}": [f"n{(i * 7 + k) % 3000}" for k in range(3)] for i in range(3000)}
catalog = Catalog([f"t{i}" for i in range(2000)])

print(len(unique_skus(skus)), unique_skus(skus)[:3])
print(len(common(left, right)))
print(vowels(text))
print(len(merge(reports)))
print(len(reachable(graph, "n0")))
print(len(catalog.known(left)))
