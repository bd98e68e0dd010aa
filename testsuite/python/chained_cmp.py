# Chained comparisons evaluate each operand once and short-circuit.
calls = []

def v(x):
    calls.append(x)
    return x

print(1 < 2 < 3, 1 < 3 < 2, 3 > 2 > 1 >= 1)
print(v(1) < v(2) < v(0) < v(5), calls)
calls.clear()
print(v(1) == v(1) != v(2), calls)
x = 5
print(0 <= x < 10, 0 <= x < 5, x in [5] in [[5]])
print(1 < 2 is not None, "a" < "b" < "c" <= "c")
print([a for a in range(20) if 3 < a <= 6 or 15 <= a < 17])
print((1, 2) < (1, 3) < (2,), [1] == [1.0] != [2])
