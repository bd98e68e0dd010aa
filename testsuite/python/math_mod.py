# The math module.
import math

print(math.pi, math.e, math.tau, math.inf, -math.inf, math.isnan(math.nan))
print(math.sqrt(16), math.sqrt(2), math.floor(-2.5), math.ceil(-2.5), math.trunc(-2.7), math.floor(7))
print(math.sin(0), math.cos(0), round(math.sin(math.pi / 2), 12), math.atan2(1, 1), math.hypot(3, 4))
print(math.log(math.e), math.log(8, 2), math.log10(1000), math.log2(1024), math.exp(1) == math.e)
print(math.gcd(12, 18), math.gcd(0, 5), math.factorial(20), math.factorial(30), math.isqrt(99), math.comb(10, 3))
print(math.fabs(-3), math.copysign(2, -0.0), math.fmod(7, 3), math.pow(2, 0.5), math.degrees(math.pi), math.radians(180))
print(math.isclose(0.1 + 0.2, 0.3), math.isinf(1e308 * 10), math.isfinite(1.0))
for bad in [lambda: math.sqrt(-1), lambda: math.log(0), lambda: math.factorial(-1)]:
    try:
        bad()
    except ValueError as e:
        print("ValueError:", e)
from math import sqrt, pi as PI
print(sqrt(81), PI)
