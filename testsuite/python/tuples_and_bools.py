# Tuples and booleans: methods, comparisons, hashing, truthiness, None.
t = (3, 1, 4, 1, 5)
print(t, t[1:3], t[::-1], t.count(1), t.index(4), len(t), 5 in t)
print((1,), (), tuple(), (1, 2) + (3,), (0,) * 3, (1, 2) < (1, 2, 0), max(t))
nested = ((1, 2), (3, (4, 5)))
print(nested[1][1][0], {(1, 2): "pair"}[(1, 2)], hash((1, "a")) == hash((1, "a")))
print(True + True, True * 10, False - 1, 1 == True, isinstance(False, int), str(True), int(False))
print(True and "yes", False or "fallback", None or 0 or "", 0 and 1, not None, not [], not [0])
x = None
print(x is None, x is not None, x == None, type(x).__name__, repr(None), bool(None))
print([] == [], [] is [], () == (), {} == {}, [0] * 0 == [])
values = [0, 1, "", "x", [], [0], {}, {0: 0}, None, 0.0, -0.1]
print([bool(v) for v in values])
print(sum(v > 0 for v in [1, -1, 2, 3]), [i for i, v in enumerate([True, False, True]) if v])
a, b = 5, 10
print(a if a > b else b, "even" if a % 2 == 0 else "odd")
print(1 if [] else 2, (lambda: None)() is None)
try:
    t[0] = 9
except TypeError as e:
    print("TypeError:", e)
try:
    t.index(99)
except ValueError as e:
    print("ValueError:", e)
