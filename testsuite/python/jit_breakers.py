# Programs written to break a JIT: each loop runs long enough to be traced at the default
# threshold (1039 iterations), then changes what the trace assumed.

# An int that overflows 64 bits inside a hot loop (the trace's overflow guard fails; the
# interpreter goes on with big ints).
x = 1
for i in range(3000):
    x = x * 3 + i
    if i % 1000 == 999:
        print("digits", len(str(x)))
print(x % 1000003)

# A type that changes after thousands of iterations: int, then float, then str.
def accumulate(values):
    total = values[0]
    for v in values[1:]:
        total = total + v
    return total

print(accumulate([1] * 2500 + [0.5] * 10))
print(accumulate(["a"] * 2000 + ["b"] * 3))

# A polymorphic call site.
class Square:
    def __init__(self, s): self.s = s
    def area(self): return self.s * self.s

class Rect:
    def __init__(self, w, h): self.w, self.h = w, h
    def area(self): return self.w * self.h

shapes = [Square(i % 7) for i in range(2000)] + [Rect(i % 5, 3) for i in range(2000)]
total = 0
for sh in shapes:
    total += sh.area()
print("areas", total)

# A class attribute changed while a loop runs.
class Config:
    scale = 2

acc = 0
for i in range(4000):
    acc += Config.scale
    if i == 2500:
        Config.scale = 5
print("scaled", acc)

# An exception raised from deep inside a call, caught in the loop.
def level3(i):
    if i % 1500 == 1499:
        raise ValueError("bad %d" % i)
    return i

def level2(i): return level3(i) + 1
def level1(i): return level2(i) * 2

caught = []
s = 0
for i in range(5000):
    try:
        s += level1(i)
    except ValueError as e:
        caught.append(str(e))
print(s, caught)

# A generator consumed in a loop.
def squares(n):
    for k in range(n):
        yield k * k

t = 0
for q in squares(3000):
    t += q
print("squares", t)

# Recursion inside a hot loop.
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

r = 0
for i in range(1200):
    r += fib(i % 12)
print("fib", r)

# A while loop whose condition flips type (int to bool to None).
k = 0
flag = 1
while flag:
    k += 1
    if k == 2000:
        flag = True
    if k == 3000:
        flag = None
print("while", k)

# Lists mutated while indexed in a hot loop (lengths change: bounds guards must fail).
data = list(range(1500))
n = 0
i = 0
while i < len(data):
    n += data[i]
    if i == 1200:
        data = data[:1300]
    i += 1
print("indexed", n, i)
