# del on names, list items and slices, dict keys and attributes.
x = 1
del x
try:
    print(x)
except NameError as e:
    print("NameError:", e)

items = list(range(10))
del items[0]
del items[-1]
print(items)
del items[1:3]
print(items)
del items[::2]
print(items)

d = {"a": 1, "b": 2, "c": 3}
del d["b"]
print(d)
try:
    del d["zz"]
except KeyError as e:
    print("KeyError:", e)

class Box:
    pass

b = Box()
b.v = 1
b.w = 2
del b.v
print(hasattr(b, "v"), hasattr(b, "w"))
try:
    del b.v
except AttributeError as e:
    print("AttributeError:", e)

def local_del():
    y = 5
    del y
    try:
        return y
    except UnboundLocalError as e:
        return "UnboundLocalError: " + str(e)

print(local_del())
a, b2 = 1, 2
del a, b2
print("a" in globals(), "b2" in globals())
