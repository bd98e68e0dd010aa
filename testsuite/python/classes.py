class Animal:
    kind = "animal"
    count = 0
    def __init__(self, name):
        self.name = name
        Animal.count += 1
    def speak(self):
        return f"{self.name} makes a sound"
    def __repr__(self):
        return f"{type(self).__name__}({self.name!r})"
class Dog(Animal):
    kind = "dog"
    def speak(self):
        return super().speak() + " (woof)"
class Puppy(Dog):
    def __init__(self, name, age):
        super().__init__(name)
        self.age = age
    def speak(self):
        return super().speak() + f" aged {self.age}"
a, d, p = Animal("generic"), Dog("Rex"), Puppy("Bit", 1)
for x in (a, d, p):
    print(x, x.speak(), x.kind, isinstance(x, Dog), isinstance(x, Animal))
print(Animal.count, Dog.count, issubclass(Puppy, Animal), issubclass(Animal, Dog), type(p).__name__)
class Vec:
    __slots__ = ("x", "y")
    def __init__(self, x, y):
        self.x, self.y = x, y
    def __add__(self, o): return Vec(self.x + o.x, self.y + o.y)
    def __sub__(self, o): return Vec(self.x - o.x, self.y - o.y)
    def __mul__(self, k): return Vec(self.x * k, self.y * k)
    def __rmul__(self, k): return self * k
    def __eq__(self, o): return isinstance(o, Vec) and (self.x, self.y) == (o.x, o.y)
    def __hash__(self): return hash((self.x, self.y))
    def __lt__(self, o): return (self.x, self.y) < (o.x, o.y)
    def __len__(self): return 2
    def __getitem__(self, i): return (self.x, self.y)[i]
    def __neg__(self): return Vec(-self.x, -self.y)
    def __repr__(self): return f"Vec({self.x}, {self.y})"
    def __str__(self): return f"<{self.x}, {self.y}>"
v = Vec(1, 2) + Vec(3, 4) * 2
print(v, repr(v), 3 * Vec(1, 1), -v, v == Vec(7, 10), v != Vec(0, 0), len(v), v[0], v[1])
print(sorted([Vec(2, 1), Vec(1, 5), Vec(1, 2)]), len({Vec(1, 2), Vec(1, 2), Vec(2, 1)}))
try:
    v.z = 1
except AttributeError as e:
    print("AttributeError:", e)
class Counter:
    def __init__(self): self.n = 0
    def __call__(self, k=1):
        self.n += k
        return self.n
c = Counter(); c(); c(3); print(c.n, callable(c), callable(1))
class Temp:
    def __init__(self, c): self._c = c
    @property
    def f(self): return self._c * 9 / 5 + 32
    @f.setter
    def f(self, v): self._c = (v - 32) * 5 / 9
    @staticmethod
    def unit(): return "C"
    @classmethod
    def freezing(cls): return cls(0)
t = Temp(100); print(t.f); t.f = 32; print(t._c, Temp.unit(), Temp.freezing().f)
print(getattr(t, "_c"), hasattr(t, "nope"), getattr(t, "nope", "dflt"))
setattr(t, "extra", 5); print(t.extra, t.__class__.__name__, Temp.__name__)
class Node:
    def __init__(self, v, nxt=None): self.v, self.nxt = v, nxt
    def __iter__(self):
        n = self
        while n:
            yield n.v
            n = n.nxt
print(list(Node(1, Node(2, Node(3)))), sum(Node(4, Node(5))))
