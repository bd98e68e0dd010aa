# Integer arithmetic: the 64-bit fast path and arbitrary precision past it.
a = 2 ** 62
print(a + a, a * 4, -a - a - a)
print(9223372036854775807 + 1, -9223372036854775808 - 1)
print(3 ** 80, (3 ** 80) // 7, (3 ** 80) % 1000007)
print(-7 // 2, -7 % 2, 7 // -2, 7 % -2, divmod(-17, 5), divmod(17, -5))
print(1 << 70, (1 << 70) >> 65, -1 >> 3, ~5, 5 & 3, 5 | 3, 5 ^ 3)
def fact(n):
    r = 1
    for i in range(2, n + 1):
        r *= i
    return r
print(fact(30))
print(fact(25) // fact(23), fact(20) == 2432902008176640000)
print(abs(-2 ** 100), int("123456789012345678901234567890") * 2)
print(pow(3, 100, 1000000007), pow(2, -2), 10 / 3, 2 ** 0.5)
print(int("ff", 16), int("-0b101", 0), hex(255), bin(10), oct(64), hex(-(2 ** 70)))
print(round(2.5), round(3.5), round(-0.5), round(1234, -2), round(1250, -2))
print((10 ** 20) / (10 ** 18), 7 / 7, (2 ** 64) // (2 ** 32))
x = 1
for i in range(100):
    x = x * 3 + 1
print(x % 1000000, len(str(x)))
print(bool(0), bool(10 ** 30), 10 ** 30 > 10 ** 29, -(10 ** 30) < 5)
print(hash(7), hash(-1), hash(2 ** 61 - 1), hash(2 ** 61), hash(-(2 ** 64)))
