# f-strings: expressions, conversions, format specs, nested specs.
name = "world"
n = 42
pi = 3.14159265
print(f"hello {name}!", f"{n + 1}", f"{name!r}", f"{name!s:>8}|")
print(f"{n:5d}|{n:<5}|{n:^7}|{n:05}|{n:+}|{n:x}|{n:#b}|{n:,}")
print(f"{pi:.2f} {pi:10.4f}| {pi:e} {pi:.0f} {pi:%} {1234567.891:,.2f}")
width, prec = 10, 3
print(f"{pi:{width}.{prec}f}|", f"{'nested'!r:>{width}}")
print(f"{[1, 2][0]} {dict(a=1)['a']} {'x' * 3} {len(name)}")
print(f"{{literal}} {n}{{}}")
items = ["a", "b"]
print(f"{', '.join(items)}", f"{n if n > 40 else 0}")
print(f"{3.0} {1e100} {0.1 + 0.2} {-0.0} {float('inf')}")
print(f"{True} {None} {(1, 'a')} {n = }")
x = 5
print(f"{x*2 = }", f"{x:>{x}}|")
print(f"{'abc':*^9}", f"{-5:05}", f"{12:_b}", f"{255:08X}")
