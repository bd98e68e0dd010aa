# with statements: __enter__/__exit__, suppressing exceptions, nesting, and the exit order.
class Tracker:
    def __init__(self, name, suppress=False):
        self.name = name
        self.suppress = suppress

    def __enter__(self):
        print("enter", self.name)
        return self

    def __exit__(self, exc_type, exc, tb):
        print("exit", self.name, exc_type.__name__ if exc_type else None, exc)
        return self.suppress

with Tracker("a") as t:
    print("inside", t.name)

with Tracker("outer"), Tracker("inner") as inner:
    print("body", inner.name)

with Tracker("quiet", suppress=True):
    raise ValueError("hidden")
print("after quiet")

try:
    with Tracker("loud"):
        raise KeyError("shown")
except KeyError as e:
    print("caught", repr(e))

def early_return():
    with Tracker("ret"):
        return "returned"
    return "not here"

print(early_return())

for i in range(3):
    with Tracker("loop%d" % i):
        if i == 1:
            continue
        if i == 2:
            break
        print("loop body", i)

class Resource:
    opened = 0

    def __enter__(self):
        Resource.opened += 1
        return Resource.opened

    def __exit__(self, *args):
        Resource.opened -= 1

with Resource() as a:
    with Resource() as b:
        print("open", a, b, Resource.opened)
print("open after", Resource.opened)
