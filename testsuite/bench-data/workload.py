# A workload for the PyPy-log import benchmark: many kinds of Python code (objects, floats,
# lists, dicts, sets, strings, unicode, bytes, exceptions, generators, closures, json, re,
# struct, heapq, itertools, collections, bigints), each hot enough for PyPy to compile.
# testsuite/bench-data/make-log.sh runs it under PyPy to write a log of tens of MB.
import json, re, heapq, itertools, struct, math, collections, random

class Node(object):
    def __init__(self, v, l=None, r=None):
        self.v = v; self.l = l; self.r = r
def insert(t, v):
    if t is None: return Node(v)
    if v < t.v: t.l = insert(t.l, v)
    else: t.r = insert(t.r, v)
    return t
def walk(t):
    if t is not None:
        for x in walk(t.l): yield x
        yield t.v
        for x in walk(t.r): yield x

def tree_work(n):
    rnd = random.Random(1)
    t = None
    for i in range(n): t = insert(t, rnd.randint(0, 10**6))
    return sum(walk(t))

def json_work(n):
    s = 0
    for i in range(n):
        d = {"a": i, "b": [i, i+1, "x%d" % i], "c": {"d": float(i) / 3}}
        s += len(json.dumps(d))
        s += json.loads('{"k": %d}' % i)["k"]
    return s

def regex_work(n):
    pat = re.compile(r"(\w+)@(\w+)\.com")
    s = 0
    for i in range(n):
        m = pat.match("user%d@host%d.com" % (i, i % 7))
        if m: s += len(m.group(1)) + len(m.group(2))
    return s

def heap_work(n):
    h = []
    for i in range(n): heapq.heappush(h, (i * 7919) % 1000)
    return sum(heapq.heappop(h) for _ in range(n // 2))

def struct_work(n):
    s = 0
    for i in range(n):
        b = struct.pack("<iqd", i, i * 3, i / 7.0)
        a, c, d = struct.unpack("<iqd", b)
        s += a + c + int(d)
    return s

def bigint_work(n):
    x = 1
    for i in range(1, n): x = (x * 3 + i) % (10**40 + 7)
    return x

def counter_work(n):
    c = collections.Counter()
    dd = collections.defaultdict(list)
    dq = collections.deque()
    for i in range(n):
        c[i % 13] += 1
        dd[i % 5].append(i)
        dq.append(i)
        if len(dq) > 10: dq.popleft()
    return len(c) + len(dd) + sum(dq)

def unicode_work(n):
    s = 0
    for i in range(n):
        u = "h\u00e9llo w\u00f6rld %d" % i
        s += len(u.upper()) + u.find("w") + len(u.encode("utf-8"))
    return s

def bytes_work(n):
    s = 0
    buf = bytearray(64)
    for i in range(n):
        buf[i % 64] = i & 0xff
        s += buf[(i * 3) % 64] + len(bytes(buf[:8]).hex())
    return s

def sort_work(n):
    rnd = random.Random(2)
    data = [(rnd.random(), "k%d" % i) for i in range(n)]
    data.sort(key=lambda t: t[1])
    return len(sorted(data, reverse=True))

def comp_work(n):
    s = 0
    for i in range(n // 10):
        d = {k: k * k for k in range(20)}
        st = {k % 7 for k in range(20)}
        l = [v for v in d.values() if v % 2]
        s += len(st) + sum(l)
    return s

def itertools_work(n):
    s = 0
    for a, b in itertools.islice(itertools.product(range(100), repeat=2), n):
        s += a * b
    for c in itertools.combinations(range(12), 3): s += sum(c)
    return s

def float_work(n):
    s = 0.0
    for i in range(1, n):
        x = i * 0.001
        s += math.sin(x) * math.sqrt(x) + math.log(x + 1) - abs(math.cos(x))
    return s

class Animal(object):
    def speak(self): return 1
class Dog(Animal):
    def speak(self): return 2
class Cat(Animal):
    def speak(self): return 3
def poly_work(n):
    zoo = [Dog(), Cat(), Animal(), Dog()]
    return sum(zoo[i % 4].speak() for i in range(n))

def exc_work(n):
    s = 0
    for i in range(n):
        try:
            if i % 3 == 0: raise KeyError(i)
            if i % 3 == 1: {}[i]
            s += i
        except KeyError as e:
            s += 1
        finally:
            s += 2
    return s

def closure_work(n):
    def make(k):
        def f(x): return x + k
        return f
    fs = [make(k) for k in range(10)]
    return sum(fs[i % 10](i) for i in range(n))

def interp_work(n):
    code = [("push", 1), ("add", None), ("dup", None), ("jnz", 0)]
    stack = [0]; pc = 0; steps = 0
    while steps < n:
        op, arg = code[pc]
        if op == "push": stack.append(arg); pc += 1
        elif op == "add": b = stack.pop(); a = stack.pop(); stack.append(a + b); pc += 1
        elif op == "dup": stack.append(stack[-1]); pc += 1
        elif op == "jnz":
            v = stack.pop(); pc = arg if v else pc + 1
            if pc >= len(code): pc = 0
        steps += 1
    return stack[-1]

def string_work(n):
    s = []
    for i in range(n):
        w = "abc" * (i % 5)
        s.append(w.replace("b", "B").strip("a") + str(i)[::-1])
    return len(",".join(s).split(","))

N = 20000
WORK = [tree_work, json_work, regex_work, heap_work, struct_work, bigint_work, counter_work,
          unicode_work, bytes_work, sort_work, comp_work, itertools_work, float_work, poly_work,
          exc_work, closure_work, interp_work, string_work]

if __name__ == "__main__":
    import sys
    # Each copy of the workload is compiled anew (fresh code objects), so PyPy traces and
    # logs every loop again: the log grows with the number of copies.
    copies = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    src = open(__file__).read().split("N = 20000")[0]
    for k in range(copies):
        ns = {"__name__": "copy%d" % k}
        exec(compile(src, "workload_copy%d.py" % k, "exec"), ns)
        for f in WORK:
            print(k, f.__name__, ns[f.__name__](N))
