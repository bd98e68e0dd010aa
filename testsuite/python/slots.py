# Classes with __slots__: attributes limited to the declared names.
class Point:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __repr__(self):
        return "Point(%d, %d)" % (self.x, self.y)

p = Point(1, 2)
p.x += 10
print(p, p.x, p.y)
try:
    p.z = 3
except AttributeError as e:
    print("AttributeError:", e)

class Point3(Point):
    __slots__ = ("z",)

    def __init__(self, x, y, z):
        super().__init__(x, y)
        self.z = z

q = Point3(1, 2, 3)
print(q.x + q.y + q.z, isinstance(q, Point))
try:
    q.w = 1
except AttributeError as e:
    print("AttributeError:", e)

class Empty:
    __slots__ = []

try:
    Empty().anything = 1
except AttributeError as e:
    print("AttributeError:", e)

class Unset:
    __slots__ = ["a"]

u = Unset()
try:
    print(u.a)
except AttributeError as e:
    print("AttributeError:", e)
u.a = 5
print(u.a)
points = [Point(i, i * i) for i in range(5)]
print(sum(pt.y for pt in points), points[-1])
