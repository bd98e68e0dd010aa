# str.format: positional, indexed, named, attributes, items, specs, conversions.
print("{} + {} = {}".format(1, 2, 3))
print("{0}{1}{0}".format("ab", "cd"), "{name} is {age}".format(name="Ada", age=36))
print("{0[0]} {0[1]} {1[key]}".format([10, 20], {"key": "v"}))
class P:
    x, y = 3, 4
print("{p.x},{p.y}".format(p=P()))
print("{:>6}|{:<6}|{:^6}|{:*^7}|".format("r", "l", "c", "s"))
print("{:5d}|{:05d}|{:+d}|{:,}|{:x}|{:#o}|{:b}".format(42, 42, 42, 1234567, 255, 8, 5))
print("{:.3f} {:10.2e} {:.1%} {:g} {:.2g}".format(3.14159, 12345.6789, 0.256, 0.00001, 123456))
print("{!r} {!s} {!r:>8}".format("q", "q", "q"))
print("{{}} {}".format("braces"), "{0:{1}}|".format("w", 5), "{:{w}.{p}f}".format(2.71828, w=8, p=2))
print("{:,.2f}".format(9876543.21), "{:_}".format(10 ** 8), "{:08.3f}".format(-3.5))
print(format(0.5, ".0f"), format(1.5, ".0f"), format(2.5, ".0f"), format(1e-7), format(123.0))
try:
    "{} {}".format(1)
except IndexError as e:
    print("IndexError:", e)
try:
    "{missing}".format()
except KeyError as e:
    print("KeyError:", e)
