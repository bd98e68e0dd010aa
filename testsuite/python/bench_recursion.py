# Deep recursion: recursive calls near the recursion limit, and tree building.
import sys
def depth(n):
    return 0 if n == 0 else 1 + depth(n - 1)
def ackermann(m, n):
    if m == 0:
        return n + 1
    if n == 0:
        return ackermann(m - 1, 1)
    return ackermann(m - 1, ackermann(m, n - 1))
def make_tree(d):
    return (None, None) if d == 0 else (make_tree(d - 1), make_tree(d - 1))
def check(t):
    l, r = t
    return 1 if l is None else 1 + check(l) + check(r)
n = int(sys.argv[2]) if len(sys.argv) > 2 else 8
total = 0
for i in range(n * 10):
    total += depth(900)
print(total, ackermann(2, n), ackermann(3, 3))
print(sum(check(make_tree(d)) for d in range(n + 4)))
