# Tuple and starred unpacking in assignments, loops and calls.
a, b = 1, 2
a, b = b, a
print(a, b)
first, *rest = [1, 2, 3, 4]
print(first, rest)
*init, last = "hello"
print(init, last)
head, *middle, tail = range(6)
print(head, middle, tail)
(p, q), r = (1, 2), 3
print(p, q, r)
for i, (name, score) in enumerate([("a", 1), ("b", 2)]):
    print(i, name, score)
for x, *ys in [(1, 2, 3), (4,), (5, 6)]:
    print(x, ys)
merged = [*range(3), *"ab", *[9]]
print(merged)
t = (*merged, 0)
print(t)
s = {*"abc", *"cd"}
print(len(s), sorted(s))
d = {**{"a": 1}, "b": 2, **{"a": 3}}
print(d)
try:
    a, b = [1, 2, 3]
except ValueError as e:
    print("ValueError:", e)
try:
    a, b, c = [1, 2]
except ValueError as e:
    print("ValueError:", e)
try:
    a, *b, c = [1]
except ValueError as e:
    print("ValueError:", e)
x = y = z = 7
print(x, y, z)
lst = [0, 0, 0]
i = 0
i, lst[i] = 1, 5
print(i, lst)
