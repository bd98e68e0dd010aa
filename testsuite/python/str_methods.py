# The common str methods.
s = "  Hello, World  "
print(repr(s.strip()), repr(s.lstrip()), repr(s.rstrip()), repr("xxhixx".strip("x")))
print(s.upper(), s.lower(), "hello world".title(), "hELLO".swapcase(), "hello".capitalize())
print("a,b,,c".split(","), "a b  c ".split(), "a,b,c".split(",", 1), "a,b,c".rsplit(",", 1))
print("line1\nline2\r\nline3".splitlines(), "-".join(["x", "y", "z"]))
print("hello".find("l"), "hello".rfind("l"), "hello".find("z"), "hello".index("e"))
try:
    "hello".index("z")
except ValueError as e:
    print("ValueError:", e)
print("banana".count("a"), "banana".count("an"), "banana".replace("a", "o"), "banana".replace("a", "o", 2))
print("hello".startswith("he"), "hello".endswith("lo"), "hello".startswith(("x", "h")))
print("42".isdigit(), "4a".isdigit(), "abc".isalpha(), "ab1".isalnum(), "   ".isspace(), "Ab".isupper(), "ab".islower())
print("abc".center(9, "*"), "abc".ljust(6, "."), "abc".rjust(6), "42".zfill(5), "-42".zfill(5))
print("key=value=x".partition("="), "key=value=x".rpartition("="), "none".partition("="))
print("a\tb".expandtabs(4), "%s|" % "abc"[::-1])
print("Hello"[1:4], "Hello"[-1], "Hello"[::2], len("Hello"))
print("ab" * 3, "x" in "xyz", "xy" not in "xyz", "abc" < "abd")
print(ord("A"), chr(97), "".join(chr(ord(c) + 1) for c in "HAL"))
print("hello world".split("o"), " ".join(w[::-1] for w in "one two".split()))
print("MiXeD".casefold(), "tab\there".split("\t"), "x".join("abc"))
print("{} {}".format("a", "b"), "prefix_name".removeprefix("prefix_"), "file.py".removesuffix(".py"))
print(str(123), str(1.5), str(None), str([1, "a"]), "abc".encode is not None)
