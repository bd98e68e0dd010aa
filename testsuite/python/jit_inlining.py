# Calls the JIT traces through (functions without loops), and guards that fail inside them:
# the interpreter must get back every inlined frame, with its locals and stack.

def inc(x):
    return x + 1

def scale(x, k):
    y = inc(x)
    return y * k

def poly(x):
    # Its argument changes type after a while: the guard fails two calls deep.
    return scale(x, 2) + scale(x, 3)

def risky(d, i):
    # A division that fails once, deep in inlined calls: the traceback names every frame.
    return 100 // (d - i)

def middle(d, i):
    partial = i * 2
    return partial + risky(d, i)

def outer(d, i):
    return middle(d, i) - 1

def run_poly():
    total = 0
    for i in range(3000):
        v = i if i < 2000 else i + 0.5
        total = total + poly(v)
    return total

def run_risky():
    caught = 0
    total = 0
    for i in range(3000):
        try:
            total += outer(2500, i)
        except ZeroDivisionError as e:
            caught += 1
            print("caught at", i, e)
    return total, caught

class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def norm1(self):
        return abs(self.x) + abs(self.y)

def run_methods():
    s = 0
    for i in range(3000):
        p = Point(i, -i)
        s += p.norm1()
    return s

def fact(n):
    return 1 if n <= 1 else n * fact(n - 1)

def run_recursive():
    s = 0
    for i in range(2000):
        s += fact(i % 12)
    return s

print(run_poly())
print(run_risky())
print(run_methods())
print(run_recursive())

def last(i):
    if i == 2999:
        raise ValueError("the last one")
    return i

def run_uncaught():
    for i in range(3000):
        outer2(i)

def outer2(i):
    return last(i) + 1

run_uncaught()
