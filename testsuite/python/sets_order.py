# Sets iterate and print in CPython's order: its table, probing, growth and set algebra.
print({3, 1, 2}, {10, 20, 5, 8, 33}, set(range(20, 0, -3)))
a = {100, 7, 64, 9}
a.add(1000); a.discard(7)
print(a, a | {5, 3}, a & {9, 64, 2}, {1, 2, 3} ^ {2, 3, 4}, {50, 40} - {40})
print({(1, 2), (3, 4)}, {1.5, 2.5, -1})
s = set()
for i in range(30): s.add(i * 37 % 101)
print(s)
print(list({-5, -1, 0, 5}), {True, 2, 0})
import random
random.seed(5)
for trial in range(40):
    s = set()
    ops = []
    for _ in range(random.randint(0, 120)):
        r = random.random()
        v = random.randint(-300, 3000)
        if r < 0.6:
            s.add(v)
        elif r < 0.8 and s:
            s.discard(random.choice(list(s)))
        elif r < 0.85 and s:
            s.pop()
        else:
            s.add((v, v % 7))
    t = {x for x in s if isinstance(x, int) and x % 3}
    print(len(s), list(s)[:20])
    print(list(t | {1, 2, 999}), list(t & set(range(0, 3000, 2)))[:10], list(t - {5, 7}) [:10], list(t ^ {4, 5, 6})[:10])
    u = set(t); u |= {17, 18}; u -= {17}; u &= set(range(1000)); u ^= {1, 2}
    print(list(u)[:15], sorted(u) == sorted(set(list(u))), set(s) == s)
print({-1, -2, 0.5, 1.5, 2 ** 70, -(2 ** 65), 7.25})
