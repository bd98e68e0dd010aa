# Operator dunders: arithmetic, reflected and in-place forms, unary, comparisons.
class Vec:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __add__(self, other):
        return Vec(self.x + other.x, self.y + other.y)

    def __sub__(self, other):
        return Vec(self.x - other.x, self.y - other.y)

    def __mul__(self, k):
        if isinstance(k, Vec):
            return self.x * k.x + self.y * k.y
        return Vec(self.x * k, self.y * k)

    def __rmul__(self, k):
        return self * k

    def __neg__(self):
        return Vec(-self.x, -self.y)

    def __abs__(self):
        return (self.x ** 2 + self.y ** 2) ** 0.5

    def __eq__(self, other):
        return isinstance(other, Vec) and (self.x, self.y) == (other.x, other.y)

    def __hash__(self):
        return hash((self.x, self.y))

    def __repr__(self):
        return f"Vec({self.x}, {self.y})"

    def __truediv__(self, k):
        return Vec(self.x / k, self.y / k)

    def __floordiv__(self, k):
        return Vec(self.x // k, self.y // k)

    def __mod__(self, k):
        return Vec(self.x % k, self.y % k)

    def __pow__(self, k):
        return Vec(self.x ** k, self.y ** k)

    def __bool__(self):
        return bool(self.x or self.y)

a, b = Vec(1, 2), Vec(3, 4)
print(a + b, a - b, a * 3, 3 * a, a * b, -a, abs(b))
print(b / 2, b // 2, b % 2, a ** 2, bool(Vec(0, 0)), bool(a))
print(a == Vec(1, 2), a != b, a == 5, len({a, Vec(1, 2), b}))
c = a
c += b
print(c, a, c is a)

class Money:
    def __init__(self, cents):
        self.cents = cents

    def __lt__(self, other):
        return self.cents < other.cents

    def __le__(self, other):
        return self.cents <= other.cents

    def __iadd__(self, other):
        self.cents += other
        return self

    def __repr__(self):
        return "$%d.%02d" % divmod(self.cents, 100)

wallet = [Money(500), Money(150), Money(999)]
print(sorted(wallet), min(wallet), max(wallet))
m = Money(1)
m += 250
print(m, Money(1) < Money(2), Money(3) > Money(2), Money(2) >= Money(2))
try:
    Vec(1, 1) < Vec(2, 2)
except TypeError as e:
    print("TypeError:", e)
try:
    a + 1
except AttributeError as e:
    print("AttributeError:", e)

class Num:
    def __init__(self, v):
        self.v = v

    def __add__(self, other):
        if not isinstance(other, Num):
            return NotImplemented
        return Num(self.v + other.v)

    def __radd__(self, other):
        return Num(self.v + other)

    def __repr__(self):
        return "Num(%r)" % self.v

print(Num(1) + Num(2), 5 + Num(1), sum([Num(1), Num(2)], Num(0)), sum([Num(3)]))
try:
    Num(1) + "x"
except TypeError as e:
    print("TypeError:", e)
