# for/while with else, break and continue, nested loops.
words = ["apple", "kiwi", "banana", "fig"]
for target in ["fig", "plum"]:
    for pos, w in enumerate(words):
        if w == target:
            print(target, "found at", pos)
            break
    else:
        print(target, "not found")
i = 0
while i < 5:
    i += 1
    if i == 2:
        continue
    if i == 4:
        break
    print("while", i)
else:
    print("while finished")
i = 0
while i < 3:
    i += 1
else:
    print("while else ran", i)
for x in []:
    print("never")
else:
    print("empty for else")
total = 0
for a in range(5):
    for b in range(5):
        if b > a:
            break
        if (a + b) % 2:
            continue
        total += a * b
print(total)
found = None
for row in [[1, 2], [3, 4], [5, 6]]:
    for v in row:
        if v > 3:
            found = v
            break
    if found:
        break
print(found)
count = 0
while True:
    count += 1
    if count >= 100:
        break
print(count)
