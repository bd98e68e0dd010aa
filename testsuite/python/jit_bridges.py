# Bridges: guards that fail often get traces of their own, which lead back into compiled loops.

def mixed_iterators():
    # The inner loop is compiled for ranges; then lists arrive, one or two items long: a
    # bridge from the failing range check may be recorded where a list is exhausted, and
    # must not lose an item when a later list is not.
    total = 0
    count = 0
    for k in range(4000):
        it = range(3) if k < 1000 else ([k] if k % 2 else [k, 1])
        for x in it:
            total += x
            count += 1
    return total, count

def type_switch():
    # A value that is an int on odd steps and a float on even ones: both ways get compiled.
    s = 0
    for i in range(5000):
        v = i if i % 2 else i * 0.5
        s = s + v
    return s

def nested(n):
    # An outer loop whose inner loop is compiled first: the outer one enters it.
    acc = 0
    for i in range(n):
        j = 0
        while j < 50:
            acc += i ^ j
            j += 1
        acc %= 1000003
    return acc

class A:
    def val(self):
        return 1

class B:
    def val(self):
        return 2

def polymorphic():
    objs = [A(), B(), A(), A(), B()]
    s = 0
    for i in range(6000):
        s += objs[i % 5].val()
    return s

print(mixed_iterators())
print(type_switch())
print(nested(400))
print(polymorphic())
