def inner(x):
    return {"a": 1}[x]
def outer():
    return inner("b")
print("before")
outer()
