# Container dunders: __len__, __getitem__, __setitem__, __delitem__, __contains__, __iter__, __call__, __str__.
class Grid:
    def __init__(self, w, h):
        self.w, self.h = w, h
        self.cells = {}

    def __getitem__(self, pos):
        return self.cells.get(pos, ".")

    def __setitem__(self, pos, v):
        self.cells[pos] = v

    def __delitem__(self, pos):
        del self.cells[pos]

    def __contains__(self, pos):
        return pos in self.cells

    def __len__(self):
        return len(self.cells)

    def __iter__(self):
        for y in range(self.h):
            for x in range(self.w):
                yield self[x, y]

    def __str__(self):
        rows = []
        for y in range(self.h):
            rows.append("".join(self[x, y] for x in range(self.w)))
        return "\n".join(rows)

g = Grid(4, 3)
g[0, 0] = "#"
g[2, 1] = "@"
g[3, 2] = "#"
print(g)
print(len(g), (2, 1) in g, (1, 1) in g, list(g).count("#"))
del g[0, 0]
print(len(g), str(g).count("#"))

class Seq:
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i >= self.n:
            raise IndexError(i)
        return i * i

s = Seq(5)
print(list(s), 9 in s, len(s), [x for x in s if x % 2], s[2])
for v in s:
    if v > 4:
        break
print(v)

class Adder:
    def __init__(self, base):
        self.base = base

    def __call__(self, x, y=0):
        return self.base + x + y

add5 = Adder(5)
print(add5(1), add5(1, y=2), list(map(add5, [1, 2, 3])), callable(add5), callable(5))

class Shape:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"Shape({self.name!r})"

    def __str__(self):
        return f"a {self.name}"

sh = Shape("circle")
print(sh, repr(sh), [sh], str(sh), f"{sh}", f"{sh!r}", "%s %r" % (sh, sh))

class Bag:
    def __init__(self):
        self.items = []

    def __bool__(self):
        return len(self.items) > 0

    def __len__(self):
        return 99

print(bool(Bag()), len(Bag()), "yes" if Bag() else "no")
