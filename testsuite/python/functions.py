def greet(name, greeting="Hello", *, punct="!"):
    return f"{greeting}, {name}{punct}"
print(greet("Ann"), greet("Bob", "Hi"), greet("Cy", punct="?"), greet(greeting="Yo", name="Di"))
def collect(*args, **kwargs):
    return args, sorted(kwargs.items())
print(collect(1, 2, a=3, b=4), collect(), collect(*[5, 6], **{"k": 7}))
def counter():
    n = 0
    def inc(step=1):
        nonlocal n
        n += step
        return n
    return inc
c = counter(); c(); c(5); print(c())
total = 0
def add_global(x):
    global total
    total += x
for i in range(5):
    add_global(i)
print(total)
square = lambda x: x * x
print(list(map(square, range(5))), list(filter(lambda x: x % 2, range(10))))
def make_adders():
    return [lambda x, i=i: x + i for i in range(3)]
print([f(10) for f in make_adders()])
def apply(f, *args):
    return f(*args)
print(apply(max, 3, 9, 2), apply(greet, "Eve"))
def deco(f):
    def wrapper(*a, **k):
        return "<" + str(f(*a, **k)) + ">"
    return wrapper
@deco
def hello(x):
    return x * 2
print(hello(21), hello.__name__)
def fib(n, memo={}):
    if n < 2:
        return n
    if n not in memo:
        memo[n] = fib(n - 1) + fib(n - 2)
    return memo[n]
print(fib(90))
def outer():
    x = "outer"
    def mid():
        def inner():
            return x
        return inner()
    return mid()
print(outer())
print((lambda *a: sum(a))(1, 2, 3), sorted([3, 1, 2], key=lambda v: -v))
def kwonly(a, b=2, *rest, c, d=4, **kw):
    return (a, b, rest, c, d, kw)
print(kwonly(1, c=3), kwonly(1, 5, 6, 7, c=8, e=9))
