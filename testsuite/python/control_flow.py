for i in range(3):
    for j in range(3):
        if j == 2:
            break
        print(i, j, end="; ")
print()
for n in range(2, 20):
    for d in range(2, n):
        if n % d == 0:
            break
    else:
        print(n, end=" ")
print()
i = 0
while i < 10:
    i += 1
    if i % 2:
        continue
    print(i, end=",")
else:
    print(" while-else ran")
x = 5
print("big" if x > 3 else "small", 1 < x < 10, 1 < x > 10, x == 5 != 6)
print(0 or "default", "" and "no", None or 0 or [], 3 and 4, not 0)
if (n := len("walrus")) > 3:
    print("len", n)
values = [3, -1, 0, 7]
print([v if v > 0 else 0 for v in values])
a, b = 1, 2
a, b = b, a
print(a, b)
total = 0
for k, v in {"a": 1, "b": 2}.items():
    total += v
print(total)
def classify(n):
    if n < 0:
        return "neg"
    elif n == 0:
        return "zero"
    elif n < 10:
        return "small"
    else:
        return "big"
print([classify(v) for v in (-5, 0, 5, 50)])
data = list(range(10))
del data[::2]
print(data)
count = 0
while True:
    count += 1
    if count > 100:
        break
print(count)
print(list(range(10, 0, -3)), list(range(0)), len(range(0, 100, 7)), range(5)[2], 7 in range(0, 10, 7))
