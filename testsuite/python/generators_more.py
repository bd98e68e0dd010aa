# Generators: yield from, return values, infinite generators, pipelines, generator expressions.
def count_up(n):
    i = 0
    while i < n:
        yield i
        i += 1
    return "finished"

def delegate():
    result = yield from count_up(3)
    yield "inner returned " + result

print(list(delegate()))

def naturals():
    n = 0
    while True:
        yield n
        n += 1

def take(n, it):
    out = []
    for v in it:
        if len(out) == n:
            break
        out.append(v)
    return out

evens = (x for x in naturals() if x % 2 == 0)
print(take(5, evens))
squares = (x * x for x in naturals())
print(next(squares), next(squares), next(squares))

def pipeline(lines):
    stripped = (l.strip() for l in lines)
    nonempty = (l for l in stripped if l)
    return (l.upper() for l in nonempty)

print(list(pipeline(["  a ", "", "b", "   "])))

def fib():
    a, b = 0, 1
    while True:
        yield a
        a, b = b, a + b

print(take(15, fib()))
g = count_up(2)
print(next(g), next(g))
try:
    next(g)
except StopIteration as e:
    print("StopIteration value:", e.value)

def flatten(items):
    for item in items:
        if isinstance(item, list):
            yield from flatten(item)
        else:
            yield item

print(list(flatten([1, [2, [3, [4]], 5], [[6]]])))

def gen_with_finally():
    try:
        yield 1
        yield 2
    finally:
        print("generator cleanup")

for v in gen_with_finally():
    print("got", v)

def windows(seq, n):
    for i in range(len(seq) - n + 1):
        yield seq[i:i + n]

print(list(windows([1, 2, 3, 4, 5], 3)), sum(len(w) for w in windows("abcdef", 2)))
print(type(count_up(1)).__name__, list(zip(count_up(3), "xyz")), dict(enumerate(count_up(2))))
