# An inventory with dict-of-dicts, sets of tags, grouping, and formatted tables.
items = [
    {"sku": "A100", "name": "widget", "qty": 12, "price": 2.50, "tags": {"metal", "small"}},
    {"sku": "B200", "name": "gadget", "qty": 0, "price": 12.00, "tags": {"plastic"}},
    {"sku": "C300", "name": "doohickey", "qty": 5, "price": 7.25, "tags": {"metal", "large"}},
    {"sku": "D400", "name": "gizmo", "qty": 30, "price": 0.99, "tags": {"small", "plastic"}},
]
by_sku = {it["sku"]: it for it in items}
print(sorted(by_sku), by_sku["C300"]["name"])
in_stock = [it["name"] for it in items if it["qty"] > 0]
print(in_stock, sum(it["qty"] * it["price"] for it in items))
tags = set()
for it in items:
    tags |= it["tags"]
print(sorted(tags))
groups = {}
for it in items:
    for t in sorted(it["tags"]):
        groups.setdefault(t, []).append(it["sku"])
for t in sorted(groups):
    print(f"{t:8}|{','.join(groups[t])}")
metal_small = [it["sku"] for it in items if {"metal", "small"} <= it["tags"]]
print(metal_small, [it["sku"] for it in items if it["tags"] & {"large", "plastic"}])
print(f"{'SKU':<5} {'NAME':<10} {'QTY':>4} {'VALUE':>8}")
for it in sorted(items, key=lambda i: i["qty"] * i["price"], reverse=True):
    print(f"{it['sku']:<5} {it['name']:<10} {it['qty']:>4} {it['qty'] * it['price']:>8.2f}")
restock = {sku: 10 for sku, it in by_sku.items() if it["qty"] < 10}
print(restock)
for sku, n in restock.items():
    by_sku[sku]["qty"] += n
print([(it["sku"], it["qty"]) for it in items])
