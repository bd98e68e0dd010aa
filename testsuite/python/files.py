import sys
path = sys.argv[1] + "/data.txt"
with open(path, "w") as f:
    f.write("alpha 1\n")
    f.write("beta 2\n")
    print("gamma 3", file=f)
with open(path) as f:
    text = f.read()
print(repr(text))
total = 0
with open(path) as f:
    for line in f:
        name, n = line.split()
        total += int(n)
        print(name.upper(), end=" ")
print(total)
with open(path, "a") as f:
    f.write("delta 4\n")
with open(path) as f:
    print(f.readlines())
try:
    open(sys.argv[1] + "/missing.txt")
except FileNotFoundError as e:
    print("missing file:", type(e).__name__)
