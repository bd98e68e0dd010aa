# global and nonlocal declarations, closures that share state.
counter = 0

def bump():
    global counter
    counter += 1
    return counter

bump(); bump()
print(counter)

def make_counter():
    count = 0
    def inc(step=1):
        nonlocal count
        count += step
        return count
    def get():
        return count
    return inc, get

inc, get = make_counter()
inc(); inc(5)
print(get())
inc2, get2 = make_counter()
print(inc2(), get())

def outer():
    x = "outer"
    def middle():
        def inner():
            nonlocal x
            x = "changed by inner"
        inner()
        return x
    return middle(), x

print(outer())

def define_global():
    global late
    late = "defined late"

define_global()
print(late)

def shadow():
    counter = 100
    return counter

print(shadow(), counter)

def read_only():
    return counter * 2

print(read_only())

def accumulate():
    total = []
    def add(v):
        total.append(v)
        return len(total)
    return add

add = accumulate()
print(add(1), add(2), add(3))
try:
    def broken():
        print(never_assigned_global_name)
    broken()
except NameError as e:
    print("NameError:", e)
def unbound():
    try:
        print(y)
    except UnboundLocalError as e:
        print("UnboundLocalError:", e)
    y = 1
unbound()
