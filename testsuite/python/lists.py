xs = [5, 3, 8, 1, 9, 2]
print(xs, len(xs), xs[0], xs[-1], xs[1:4], xs[::2], xs[::-1], xs[-2:])
xs.append(7); xs.extend([0, 6]); xs.insert(2, 42)
print(xs, xs.index(42), xs.count(3), 42 in xs)
print(xs.pop(), xs.pop(0), xs)
xs.remove(42); xs.sort(); print(xs)
xs.sort(reverse=True); print(xs)
words = ["banana", "Apple", "cherry", "date"]
print(sorted(words), sorted(words, key=str.lower), sorted(words, key=len, reverse=True))
ys = list(range(10))
ys[2:5] = ["a", "b"]; print(ys)
ys[::3] = [0, 0, 0]; print(ys)
del ys[0]; del ys[-2:]; print(ys)
zs = [[0] * 3 for _ in range(3)]
zs[1][1] = 5; print(zs)
print([1, 2] + [3], [1, 2] * 3, [] == [], [1, 2] < [1, 3], [1, [2, 3]] == [1, [2, 3]])
a = [3, 1, 2]; b = a; b.append(4); print(a, a is b, a.copy() is a)
print(list(reversed(a)), min(a), max(a), sum(a), sorted(a), a)
pairs = [(1, "b"), (1, "a"), (0, "z")]
pairs.sort(); print(pairs)
pairs.sort(key=lambda p: p[1]); print(pairs)
m = [x * y for x in range(1, 4) for y in range(1, 4) if x != y]
print(m, [i for i in range(20) if i % 3 == 0])
first, *rest = [1, 2, 3, 4]; print(first, rest)
*init, last = "abcd"; print(init, last)
a, (b, c), d = 1, (2, 3), 4; print(a, b, c, d)
big = list(range(1000)); big.reverse(); print(big[:5], len(big), sum(big))
nested = [[1, 2], [3], []]; print([y for x in nested for y in x], any(nested), all(nested))
