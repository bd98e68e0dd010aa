def count_up(n):
    i = 0
    while i < n:
        yield i
        i += 1
print(list(count_up(5)), sum(count_up(101)))
def fib():
    a, b = 0, 1
    while True:
        yield a
        a, b = b, a + b
g = fib()
print([next(g) for _ in range(15)])
print(sum(x * x for x in range(10)), max(len(w) for w in ["a", "abc", "ab"]))
def chain(*its):
    for it in its:
        yield from it
print(list(chain([1, 2], "ab", range(3))))
def take(n, it):
    for i, x in enumerate(it):
        if i >= n:
            return
        yield x
print(list(take(4, fib())))
gen = (c.upper() for c in "hey")
print(next(gen), next(gen), next(gen), next(gen, "done"))
try:
    next(gen)
except StopIteration:
    print("stopped")
def queens(n, row=0, cols=(), d1=(), d2=()):
    if row == n:
        yield cols
        return
    for c in range(n):
        if c not in cols and row + c not in d1 and row - c not in d2:
            yield from queens(n, row + 1, cols + (c,), d1 + (row + c,), d2 + (row - c,))
print(next(queens(6)), sum(1 for _ in queens(6)))
it = iter([1, 2, 3])
print(next(it), list(it), list(it))
print(list(zip("abc", count_up(10), [True, False, True])), list(enumerate("xy", 1)))
print(list(map(lambda a, b: a * b, [1, 2, 3], [4, 5, 6])), dict(enumerate("ab")))
def pipeline():
    nums = (i for i in range(20))
    evens = (n for n in nums if n % 2 == 0)
    return [e * 10 for e in evens]
print(pipeline(), any(x > 5 for x in range(10)), all(x < 5 for x in range(10)))
