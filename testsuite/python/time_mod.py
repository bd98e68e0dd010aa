# time: clocks only move forward; output kept deterministic.
import time

t0 = time.time()
p0 = time.perf_counter()
m0 = time.monotonic()
total = 0
for i in range(10000):
    total += i
t1 = time.time()
p1 = time.perf_counter()
print(total, t1 >= t0, p1 >= p0, time.monotonic() >= m0)
print(t0 > 1.6e9, type(t0).__name__, type(time.perf_counter_ns()).__name__)
time.sleep(0.001)
print(time.perf_counter() - p0 >= 0.001)
