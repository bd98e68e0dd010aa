# Generators driven with send(): coroutine-style accumulators and the StopIteration they end with.
def averager():
    total, count, avg = 0.0, 0, None
    while True:
        value = yield avg
        if value is None:
            return (count, avg)
        total += value
        count += 1
        avg = total / count

g = averager()
print(next(g))
for v in [10, 20, 60]:
    print(g.send(v))
try:
    g.send(None)
except StopIteration as e:
    print("finished with", e.value)

def echo():
    received = []
    while len(received) < 3:
        x = yield len(received)
        received.append(x)
    return received

e = echo()
print(e.send(None), e.send("a"), e.send("b"))
try:
    e.send("c")
except StopIteration as stop:
    print("returned", stop.value)

fresh = averager()
try:
    fresh.send(5)
except TypeError as err:
    print("TypeError:", err)

def plain():
    yield 1

p = plain()
print(next(p))
try:
    p.send(7)
except StopIteration as stop:
    print("StopIteration", repr(stop.value), repr(str(stop)))
