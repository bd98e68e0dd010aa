d = {"one": 1, "two": 2}
d["three"] = 3
print(d, len(d), d["two"], d.get("four"), d.get("four", 4), "one" in d)
for k, v in d.items():
    print(k, v)
print(list(d.keys()), list(d.values()), sorted(d))
del d["one"]; d["one"] = 1; print(d)
print(d.pop("two"), d.setdefault("x", 9), d.setdefault("x", 10), d)
d.update({"y": 1}, z=2); print(d)
counts = {}
for w in "the quick brown the lazy the end quick".split():
    counts[w] = counts.get(w, 0) + 1
print(counts, max(counts, key=counts.get))
sq = {i: i * i for i in range(6) if i % 2 == 0}; print(sq)
inv = {v: k for k, v in sq.items()}; print(inv)
print({**sq, 100: 1}, dict([(1, 2), (3, 4)]), dict(a=1, b=2), dict(zip("abc", range(3))))
t = {(1, 2): "tuple key", 3.0: "float", 3: "int again"}; print(t)
s = {3, 1, 2, 3}
print(len(s), 2 in s, 5 in s, sorted(s))
s.add(10); s.discard(1); s.remove(2); print(sorted(s))
a, b = {1, 2, 3, 4}, {3, 4, 5}
print(sorted(a | b), sorted(a & b), sorted(a - b), sorted(a ^ b), a <= {1, 2, 3, 4, 5}, {1} < a)
print(sorted({c for c in "mississippi"}), sorted(set("hello")), set() == set(), len(set(range(100))))
nested = {"a": {"b": [1, 2, {"c": 3}]}}
print(nested["a"]["b"][2]["c"], nested)
dd = {}
for i in range(2000):
    dd[i] = i * 2
for i in range(0, 2000, 2):
    del dd[i]
print(len(dd), dd[1999], sum(dd.values()), list(dd)[:5])
print(d == {"three": 3, "one": 1, "x": 9, "y": 1, "z": 2}, {1: 2} != {1: 3})
