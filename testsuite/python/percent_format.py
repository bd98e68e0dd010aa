# printf-style % formatting.
print("%d %i %s %r" % (42, -7, "str", "repr"))
print("%5d|%-5d|%05d|%+d|% d" % (42, 42, 42, 42, 42))
print("%x %X %o %#x %#o" % (255, 255, 8, 255, 8))
print("%f %.2f %10.3f %-10.1f| %e %.3E" % (3.14159, 3.14159, 3.14159, 3.14159, 12345.678, 0.00012))
print("%g %g %g %.3g" % (0.0001, 123456789.0, 1.5, 2.0 / 3))
print("%s and %s" % ("a", [1, 2]), "%%" % (), "100%%" % ())
print("%(name)s is %(age)d" % {"name": "Ada", "age": 36})
print("%c%c" % (72, "i"), "%.3s" % "abcdef", "%10s|%-10s|" % ("r", "l"))
print("%s" % (1,), "%s" % ((1, 2),), "%d%%" % 50)
print("%*d|%-*d|" % (6, 1, 6, 2))
print("%d" % 10 ** 30, "%.1f" % 1e20, "%s" % 1e20, "%d" % True, "%d" % 3.9)
for bad in [lambda: "%d" % "x", lambda: "%s %s" % (1,), lambda: "%s" % (1, 2)]:
    try:
        bad()
    except TypeError as e:
        print("TypeError:", e)
