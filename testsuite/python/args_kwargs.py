# *args, **kwargs, keyword-only parameters, defaults and argument unpacking at call sites.
def f(a, b=2, *args, c, d=4, **kwargs):
    return (a, b, args, c, d, sorted(kwargs.items()))

print(f(1, c=3))
print(f(1, 5, 6, 7, c=8, e=9, f=10))
print(f(*[1, 2, 3], **{"c": 4, "z": 5}))

def total(*nums):
    s = 0
    for n in nums:
        s += n
    return s

print(total(), total(1), total(1, 2, 3, 4))
nums = [10, 20, 30]
print(total(*nums, 5, *nums))

def describe(**info):
    return ", ".join("%s=%r" % (k, v) for k, v in info.items())

print(describe(name="ada", year=1815, langs=["en", "fr"]))
opts = {"x": 1}
print(describe(**opts, y=2, **{"z": 3}))

def kwonly(*, key, value=None):
    return key, value

print(kwonly(key="k"), kwonly(value=1, key="j"))

def defaults_evaluated_once(item, bucket=[]):
    bucket.append(item)
    return bucket

print(defaults_evaluated_once(1), defaults_evaluated_once(2))

def apply(fn, *args, **kwargs):
    return fn(*args, **kwargs)

print(apply(max, 3, 9, 4), apply(sorted, [3, 1, 2], reverse=True))
print(apply(f, 0, c=1, extra="yes"))

for bad in [lambda: f(), lambda: f(1), lambda: kwonly(1), lambda: total(x=1), lambda: f(1, c=2, a=3)]:
    try:
        bad()
    except TypeError as e:
        print("TypeError:", e)
