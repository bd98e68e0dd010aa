# The array module: typed arrays of ints and floats.
from array import array

a = array("i", [1, 2, 3])
a.append(4)
a.extend([5, 6])
print(a, len(a), a[0], a[-1], sum(a))
a[1] = 20
print(a.tolist(), a[1:3], list(reversed(a)))
d = array("d", [0.5] * 4)
for i in range(len(d)):
    d[i] = d[i] * i
print(d, d.typecode, max(d))
zeros = array("l", [0]) * 5
print(zeros, 0 in zeros, 7 in zeros)
b = array("b")
try:
    b.append(200)
except OverflowError as e:
    print("OverflowError:", e)
try:
    a.append(1.5)
except TypeError as e:
    print("TypeError:", e)
print(a.index(20), a.count(5), a.pop(), a)
e = array("i", range(5))
e.reverse()
print(e, array("u", "hi") if False else "skip")
