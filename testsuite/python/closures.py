# Closures: captured variables, late binding, factories, decorators.
def make_multiplier(n):
    def mul(x):
        return x * n
    return mul

double, triple = make_multiplier(2), make_multiplier(3)
print(double(5), triple(5), [make_multiplier(i)(10) for i in range(4)])

def compose(*fns):
    def run(x):
        for f in reversed(fns):
            x = f(x)
        return x
    return run

print(compose(double, triple, lambda v: v + 1)(1))

def memoize(fn):
    cache = {}
    def wrapper(*args):
        if args not in cache:
            cache[args] = fn(*args)
        return cache[args]
    wrapper.cache = cache
    return wrapper

@memoize
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

print(fib(80), len(fib.cache))

def trace(label):
    def decorator(fn):
        def wrapped(*args, **kwargs):
            result = fn(*args, **kwargs)
            print(f"{label}: {fn.__name__}{args} -> {result}")
            return result
        return wrapped
    return decorator

@trace("calc")
def add(a, b):
    return a + b

add(2, 3)

def counter_pair():
    n = [0]
    def inc():
        n[0] += 1
        return n[0]
    def reset():
        n[0] = 0
    return inc, reset

inc, reset = counter_pair()
inc(); inc()
print(inc())
reset()
print(inc())
adders = []
for i in range(3):
    adders.append(lambda x: x + i)
print([f(10) for f in adders])

def outer():
    v = 1
    def read():
        return v
    v = 2
    return read

print(outer()())
print((lambda *a, **k: (a, k))(1, 2, z=3))
print(sorted(["banana", "Apple", "cherry"], key=lambda s: s.lower()))
