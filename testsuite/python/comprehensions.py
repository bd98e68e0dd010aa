# List, set and dict comprehensions and generator expressions, with their scopes.
squares = [x * x for x in range(10)]
print(squares)
print([x for x in squares if x % 2 == 0])
print([(i, j) for i in range(3) for j in range(i)])
print([[i * j for j in range(4)] for i in range(3)])
print(sorted({x % 5 for x in range(20)}))
print({w: len(w) for w in ["ab", "cde", "f"]})
print({v: k for k, v in {"a": 1, "b": 2}.items()})
print(sum(x for x in range(101)), max(len(w) for w in ["aa", "b", "cccc"]))
print(list(c.upper() for c in "abc" if c != "b"))
x = "outer"
print([x for x in "in"], x)
funcs = [lambda: i for i in range(3)]
print([f() for f in funcs])
funcs = [lambda i=i: i for i in range(3)]
print([f() for f in funcs])
matrix = [[1, 2, 3], [4, 5, 6]]
print([row[i] for i in range(3) for row in matrix])
print([list(col) for col in zip(*matrix)])
class C:
    base = 10
    vals = [i * 2 for i in range(3)]
print(C.vals)
print({(a, b) for a in range(2) for b in range(2)} == {(0, 0), (0, 1), (1, 0), (1, 1)})
print(any(x > 8 for x in range(10)), all(x < 5 for x in range(10)))
