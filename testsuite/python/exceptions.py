class AppError(Exception):
    pass
class NotFound(AppError):
    def __init__(self, key):
        super().__init__(f"missing {key}")
        self.key = key
def lookup(d, k):
    try:
        return d[k]
    except KeyError:
        raise NotFound(k)
try:
    lookup({}, "x")
except AppError as e:
    print(type(e).__name__, e, e.key, e.args, isinstance(e, Exception))
def f(n):
    try:
        if n == 0:
            raise ValueError("zero")
        return 10 // n
    except ValueError as e:
        return f"VE {e}"
    else:
        print("no error for", n)
    finally:
        print("finally", n)
print(f(0), f(5))
for exc in [IndexError("i"), KeyError("k"), TypeError("t"), ZeroDivisionError("z")]:
    try:
        raise exc
    except (IndexError, KeyError) as e:
        print("lookup error:", repr(e))
    except Exception as e:
        print("other:", type(e).__name__, e)
def nested():
    try:
        try:
            [][1]
        except IndexError:
            raise RuntimeError("wrapped")
    except RuntimeError as e:
        return str(e)
print(nested())
def reraise():
    try:
        {}["a"]
    except KeyError:
        print("logging")
        raise
try:
    reraise()
except KeyError as e:
    print("caught again", e)
def loop_with_finally():
    out = []
    for i in range(5):
        try:
            if i == 1:
                continue
            if i == 3:
                break
            out.append(i)
        finally:
            out.append(-i)
    return out
print(loop_with_finally())
def ret_in_finally():
    try:
        return "try"
    finally:
        print("cleanup runs")
print(ret_in_finally())
errors = []
for s in ["1", "x", "3.5", ""]:
    try:
        errors.append(int(s))
    except ValueError as e:
        errors.append(str(e))
print(errors)
try:
    assert 1 + 1 == 3, "math is broken"
except AssertionError as e:
    print("assert:", e)
try:
    None.foo
except AttributeError as e:
    print(e)
try:
    "a" + 1
except TypeError as e:
    print(e)
try:
    undefined_name
except NameError as e:
    print(e)
class Ctx:
    def __init__(self, name): self.name = name
    def __enter__(self):
        print("enter", self.name)
        return self
    def __exit__(self, t, v, tb):
        print("exit", self.name, t.__name__ if t else None)
        return t is ZeroDivisionError
with Ctx("a") as c, Ctx("b"):
    print("inside", c.name)
with Ctx("swallow"):
    1 / 0
print("after swallow")
try:
    with Ctx("propagate"):
        raise KeyError("k")
except KeyError:
    print("propagated")
