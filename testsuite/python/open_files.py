# open() for reading and writing text: modes w, a, r, iteration, readlines, with-blocks.
import sys

folder = sys.argv[1]
path = folder + "/data.txt"
with open(path, "w") as f:
    n = f.write("first line\n")
    f.write("second line\n")
    print("wrote", n)
with open(path, "a") as f:
    f.writelines(["third\n", "fourth\n"])
with open(path) as f:
    print(repr(f.read()))
with open(path, "r") as f:
    for i, line in enumerate(f):
        print(i, line.rstrip("\n"))
f = open(path)
print(f.readline().strip(), f.readlines())
f.close()
print(f.closed)
try:
    open(folder + "/missing.txt")
except FileNotFoundError as e:
    print("FileNotFoundError:", e.strerror)
except OSError:
    print("OSError")
with open(path, "w") as f:
    print("via print", 42, file=f)
print(open(path).read().split())
