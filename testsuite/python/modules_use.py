import math
import random
import sys
import time
from io import StringIO
from array import array
import mod_helper
from mod_helper import double, CONSTANT as C
print(math.sqrt(16), math.floor(3.7), round(math.pi, 5))
random.seed(42)
print([random.randint(1, 100) for _ in range(5)], round(random.random(), 10))
random.seed(12345)
xs = list(range(10)); random.shuffle(xs)
print(xs, random.choice("abcdef"), random.randrange(0, 100, 5), round(random.uniform(1, 2), 10))
random.seed(2 ** 40 + 7)
print([random.getrandbits(8) for _ in range(4)], random.getrandbits(70))
print(len(sys.argv) >= 1, type(time.time()).__name__, time.perf_counter() >= 0)
buf = StringIO()
buf.write("hello ")
print("world", file=buf)
print(repr(buf.getvalue()))
arr = array("d", [1.5, 2.5])
arr.append(3.0)
print(arr, arr[1], len(arr), sum(arr), arr.tolist())
ints = array("i", range(5)); ints[0] = 99
print(ints, list(ints))
print(mod_helper.double(21), double(2), C, mod_helper.Thing().describe())
sys.stdout.write("direct write\n")
